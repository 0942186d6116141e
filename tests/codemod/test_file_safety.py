"""Issue 11 §6–7: hostile or changing input never sinks a run or someone else's edit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from layer_migrate.cli import main
from layer_migrate.codemod import Options, build_index, rewrite_source
from layer_migrate.codemod import runner as runner_mod
from layer_migrate.codemod.runner import Settings, process_file

V1 = 'ACCEPT = "application/vnd.layer+json; version=1.1"\n'
V3 = 'ACCEPT = "application/vnd.layer+json; version=3.0"\n'
DEEP = V1 + "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n"


def invoke(*args):
    return CliRunner().invoke(main, ["codemod", *args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    return tmp_path


def test_deep_nesting_is_skipped_with_its_reason_before_the_parser_sees_it():
    out = rewrite_source(DEEP.encode(), Options(index=build_index("3.0")))
    assert out.skipped is not None and "nested deeper than" in out.skipped
    assert out.skipped_line == 2 and out.layer_skipped and not out.changed


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_deeply_nested_file_does_not_stop_the_run(project, jobs):
    for i in range(10):  # enough files for the process pool at -j 2
        (project / "pkg" / f"m{i}.py").write_text(V1)
    (project / "pkg" / "deep.py").write_text(DEEP)
    res = invoke("-j", jobs, "pkg")
    assert "Traceback" not in res.output and "BrokenProcessPool" not in res.output
    assert "pkg/deep.py:2: skipped: brackets nested deeper than 200" in res.stderr
    assert res.exit_code == 1  # a skipped Platform API file: the migration is incomplete
    assert all((project / "pkg" / f"m{i}.py").read_text() == V3 for i in range(10))
    assert (project / "pkg" / "deep.py").read_text() == DEEP


def test_a_worker_crash_loses_only_its_file(project, monkeypatch):
    """Should the native parser still crash a worker, every other file is redone alone."""
    for i in range(10):
        (project / "pkg" / f"m{i}.py").write_text(V1)
    crash = project / "pkg" / "crash.py"
    crash.write_text(V1 + "# CRASH-ME\n")
    files = sorted((project / "pkg").glob("*.py"))
    results = list(runner_mod.run(files, Settings(), "check", jobs=2, _work=_crashing_worker))
    by_name = {Path(r.path).name: r for r in results}
    assert len(by_name) == 11
    assert by_name["crash.py"].skipped == "the parser crashed on this file: not rewritten"
    assert all(by_name[f"m{i}.py"].changed for i in range(10)), [(r.path[-8:], r.skipped, r.error) for r in results]


def _crashing_worker(item):
    if item[0].endswith("crash.py"):
        os._exit(139)
    return runner_mod.process_file(*item)


def test_nul_byte_is_not_valid_python(project):
    (project / "pkg" / "nul.py").write_bytes(V1.encode() + b"x = 1\x00\n")
    res = invoke("pkg")
    assert "pkg/nul.py:1: skipped: not valid Python: the file contains a NUL byte" in res.stderr
    assert "internal error" not in res.output
    assert res.exit_code == 1


def test_read_only_files_are_skipped_unless_forced(project):
    f = project / "pkg" / "ro.py"
    f.write_text(V1)
    os.chmod(f, 0o444)
    res = invoke("pkg")
    assert "read-only file: not rewritten (--force" in res.stderr and res.exit_code == 1
    assert f.read_text() == V1
    assert invoke("--force", "-q", "pkg").exit_code == 0
    assert f.read_text() == V3 and (f.stat().st_mode & 0o777) == 0o444


def test_a_file_edited_during_the_run_is_not_overwritten(project, monkeypatch):
    f = project / "pkg" / "busy.py"
    f.write_text(V1)
    real = runner_mod.rewrite_source

    def edit_meanwhile(code, options):
        out = real(code, options)
        f.write_text(V1 + "# edited by a colleague\n")  # lands between our read and our write
        return out

    monkeypatch.setattr(runner_mod, "rewrite_source", edit_meanwhile)
    res = process_file(str(f), Settings(), "write")
    assert res.skipped == "changed by someone else during the run: not written (run again)"
    assert f.read_text() == V1 + "# edited by a colleague\n"
    assert not [p for p in f.parent.iterdir() if p.name.endswith(".layer-migrate")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="keeping another owner needs root")
def test_owner_and_group_are_kept_when_run_as_root(project):
    f = project / "pkg" / "owned.py"
    f.write_text(V1)
    os.chown(f, 12345, 23456)
    assert invoke("-q", "pkg").exit_code == 0
    st = f.stat()
    assert (st.st_uid, st.st_gid) == (12345, 23456) and f.read_text() == V3


def test_guard_costs_nothing_on_ordinary_files():
    from layer_migrate.codemod.api import nesting_problem

    assert nesting_problem(("f(a[1], {2: (3, 4)})\n" * 2000).encode()) is None
    assert sys.getrecursionlimit() > 0
