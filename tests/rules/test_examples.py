"""Every rule's own examples hold (they are also what ``layer-migrate rules`` prints)."""

import pytest

from layer_migrate.engine import default_engine, run_example
from layer_migrate.rulebook import load_rulebook

CASES = [(r, i, ex) for r in load_rulebook() for i, ex in enumerate(r.examples)]


@pytest.mark.parametrize(("rule", "index", "example"), CASES,
                         ids=[f"{r.spec}-{r.id}-{i}" for r, i, _ in CASES])
def test_rule_example(rule, index, example):
    assert run_example(rule, example, default_engine()) is None


def test_every_rule_has_an_example_or_is_documentation_only():
    for r in load_rulebook():
        assert r.examples, f"{r.id} ({r.module}) has no example"
