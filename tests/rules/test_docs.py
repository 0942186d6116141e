"""The migration guide (docs/rules.md) and layer_migrate/rules/README.md stay current with the rule modules."""

import re
from pathlib import Path

from click.testing import CliRunner

from layer_migrate.rulebook import NOT_APPLICABLE, load_rulebook, render_markdown
from layer_migrate.translate_cli import rules

ROOT = Path(__file__).resolve().parents[2]


def test_docs_rules_md_is_current():
    expected = render_markdown(load_rulebook())
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/rules.md is stale: run `layer-migrate rules --markdown > docs/rules.md`"


def test_cli_markdown_equals_the_guide():
    out = CliRunner().invoke(rules, ["--markdown"])
    assert out.exit_code == 0
    assert out.output == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_catalogue_rule_has_a_module_or_a_reason():
    specs = set()
    for r in load_rulebook():
        specs.update(int(x) for x in re.findall(r"R(\d+)", r.spec))
        assert re.search(rf"\b{re.escape(r.spec.split('/')[0])}\b", r.doc), f"{r.id}: docstring must cite {r.spec}"
    readme = (ROOT / "layer_migrate" / "rules" / "README.md").read_text(encoding="utf-8")
    for spec in NOT_APPLICABLE:
        assert spec in readme
        specs.add(int(spec[1:]))
    assert specs == set(range(1, 55))


def test_rule_ids_unique_and_modules_one_rule_each():
    book = load_rulebook()
    assert len({r.id for r in book}) == len(book)
    assert len({r.module for r in book}) == len(book)
