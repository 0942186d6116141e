"""Before/after fixture pairs (``cases/*.case``): every pattern of issue 5, per HTTP library,
plus negative controls that must stay byte-identical."""

import shutil
import subprocess

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


RUFF = shutil.which("ruff")


def _isort_clean(source: str, cwd) -> bool:
    proc = subprocess.run([RUFF, "check", "--isolated", "--select", "I", "--stdin-filename", "x.py", "-"],
                          input=source, text=True, capture_output=True, cwd=cwd, timeout=60)
    return proc.returncode == 0


@pytest.mark.skipif(RUFF is None, reason="ruff is a test extra; not on PATH")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_added_imports_keep_isort_order(case, tmp_path):
    """Issue 16: an import the codemod adds never breaks isort order (ruff I001), cwd outside
    this repository so ``layer_migrate`` counts as third-party, as in a user's project."""
    if not _isort_clean(case.before, tmp_path):
        pytest.skip("the fixture's own imports are not isort-ordered")
    assert _isort_clean(case.after, tmp_path), case.after


@pytest.mark.parametrize("files, expected", [
    ({}, 88),
    ({"pyproject.toml": "[tool.ruff]\nline-length = 120\n"}, 120),
    ({"pyproject.toml": "[tool.black]\nline-length = 100\n"}, 100),
    ({"pyproject.toml": "[tool.ruff]\nselect = ['E']\n"}, 88),
    ({"setup.cfg": "[flake8]\nmax-line-length = 99\n"}, 99),
    ({"tox.ini": "[flake8]\nexclude = .git\n"}, 79),
    ({"pyproject.toml": "[project]\nname = 'x'\n", "setup.cfg": "[flake8]\nmax-line-length = 110\n"}, 110),
])
def test_line_length_is_read_from_the_projects_tools(tmp_path, files, expected):
    from layer_migrate.codemod.wrap import line_length_for

    (tmp_path / ".git").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    assert line_length_for((tmp_path / "src" / "pkg").resolve()) == expected
