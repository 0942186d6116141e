"""Before/after fixture pairs (``cases/*.case``): every pattern of issue 5, per HTTP library,
plus negative controls that must stay byte-identical."""

import libcst as cst
import pytest

from .casefile import all_cases, rewrite

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_rewrites_as_expected(case):
    assert rewrite(case.before, case.options) == case.after


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_second_run_changes_nothing(case):
    assert rewrite(case.after, case.options) == case.after


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_output_is_valid_python(case):
    cst.parse_module(case.after)
    compile(case.after, case.name, "exec")


def test_there_are_negative_controls_and_library_cases():
    names = {c.name for c in CASES}
    assert {"negative_unrelated", "negative_layer_file_lookalikes", "negative_webhook_receiver"} <= names
    assert {"blocks_requests", "blocks_httpx", "blocks_aiohttp", "blocks_helper"} <= names
    for c in CASES:
        if c.name.startswith("negative_"):
            assert c.before == c.after
