"""``layer-migrate codemod``: modes, exit codes, config, safety around files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from layer_migrate.cli import main

V1 = 'ACCEPT = "application/vnd.layer+json; version=1.1"\n'
V3 = 'ACCEPT = "application/vnd.layer+json; version=3.0"\n'
BOT = ('import requests\n\n\ndef send(cid):\n    return requests.post(f"/apps/A/conversations/{cid}/messages",\n'
       '                         json={"sender": {"name": "Support"}, "parts": []})\n')


def invoke(*args, cwd=None):
    runner = CliRunner()
    return runner.invoke(main, ["codemod", *args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "client.py").write_text(V1)
    (tmp_path / "pkg" / "plain.py").write_text("x = 1\n")
    return tmp_path


def test_write_mode_rewrites_in_place_and_keeps_permissions(project):
    f = project / "pkg" / "client.py"
    os.chmod(f, 0o640)
    res = invoke("pkg")
    assert res.exit_code == 0, res.output
    assert f.read_text() == V3
    assert (f.stat().st_mode & 0o777) == 0o640
    assert (project / "pkg" / "plain.py").read_text() == "x = 1\n"
    assert "hdr.accept.v3" in res.stderr
    assert not [p for p in (project / "pkg").iterdir() if p.name.endswith(".layer-migrate")]


def test_diff_mode_prints_and_writes_nothing(project):
    res = invoke("--diff", "-q", "pkg")
    assert res.exit_code == 0
    assert '-ACCEPT = "application/vnd.layer+json; version=1.1"' in res.stdout
    assert '+ACCEPT = "application/vnd.layer+json; version=3.0"' in res.stdout
    assert (project / "pkg" / "client.py").read_text() == V1


def test_check_mode_exit_codes(project):
    res = invoke("--check", "pkg")
    assert res.exit_code == 1
    assert "would rewrite pkg/client.py" in res.stderr
    assert (project / "pkg" / "client.py").read_text() == V1
    assert invoke("-q", "pkg").exit_code == 0
    assert invoke("--check", "pkg").exit_code == 0


def test_report_lists_markers_with_file_and_line(project):
    (project / "pkg" / "bot.py").write_text(BOT)
    res = invoke("-q", "--report", "report.json", "pkg")
    assert res.exit_code == 0
    report = json.loads((project / "report.json").read_text())
    assert report["markers"] == [{"file": "pkg/bot.py", "line": 5, "text": report["markers"][0]["text"]}]
    assert "v2.sender.name_to_bot" in report["markers"][0]["text"]
    assert report["rules"]["v2.sender.name_to_bot"] == {"files": 1, "rewritten": 0, "marked": 1}
    assert invoke("-q", "--report", "report.md", "pkg").exit_code == 0
    md = (project / "report.md").read_text()
    assert "`pkg/bot.py:5`" in md and "| `v2.sender.name_to_bot` |" in md


def test_bot_map_rewrites_sender_name(project):
    (project / "pkg" / "bot.py").write_text(BOT)
    (project / "bots.json").write_text('{"Support": "support-bot"}')
    assert invoke("-q", "--bot-map", "bots.json", "pkg").exit_code == 0
    assert '"sender_id": "layer:///identities/support-bot"' in (project / "pkg" / "bot.py").read_text()


@pytest.mark.parametrize("args, message", [
    (["--bot-map", "bad.json", "pkg"], "bad.json:1: bot map is not valid JSON"),
    (["--disable", "no.such.rule", "pkg"], "unknown rule 'no.such.rule'"),
    (["missing_dir"], "missing_dir: no such file or directory"),
    (["--diff", "--check", "pkg"], "cannot be combined"),
])
def test_bad_input_exits_2_with_one_line(project, args, message):
    (project / "bad.json").write_text("{nope")
    res = invoke(*args)
    assert res.exit_code == 2
    assert message in res.stderr
    assert "Traceback" not in res.output
    assert (project / "pkg" / "client.py").read_text() == V1


def test_unparsable_layer_file_is_skipped_and_the_run_says_incomplete(project):
    """Issue 15 class 6: the real line of the parse error; write mode and --check exit 1 while a
    skipped file talks to the Platform API; the summary says the migration is incomplete."""
    (project / "pkg" / "py2.py").write_bytes(b'A = "application/vnd.layer+json; version=1.1"\n\nprint "x"\n')
    res = invoke("pkg")
    assert res.exit_code == 1
    assert "pkg/py2.py:3: skipped: does not parse as Python 3" in res.stderr
    assert "migration incomplete: 1 site needs you before this code can run against 3.0" in res.stderr
    assert (project / "pkg" / "client.py").read_text() == V3  # the rest is still migrated
    assert invoke("--check", "-q", "pkg").exit_code == 1


def test_unparsable_file_without_the_platform_api_does_not_fail_the_run(project):
    (project / "pkg" / "other.py").write_bytes(b'layer_count = 1\nprint "x"\n')  # pre-filter hit only
    res = invoke("-q", "pkg")
    assert res.exit_code == 0, res.stderr
    assert "pkg/other.py:2: skipped: does not parse as Python 3" in res.stderr
    assert "migration incomplete" not in res.stderr


def test_check_fails_while_markers_remain_unless_allowed(project, tmp_path):
    (project / "pkg" / "client.py").write_text(BOT.replace("1.1", "3.0"))
    assert invoke("-q", "pkg").exit_code == 0  # write mode: the marker is written
    res = invoke("--check", "pkg")
    assert res.exit_code == 1
    assert "pkg/client.py:5: v2.sender.name_to_bot (R22)" in res.stderr
    assert "1 site needs you before this code can run against 3.0" in res.stderr
    assert invoke("--check", "--allow-markers", "-q", "pkg").exit_code == 0
    assert invoke("--check", "-q", "--report", str(tmp_path / "r.json"), "pkg").exit_code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["needs_you"] == [{"file": "pkg/client.py", "line": 5, "fix": report["needs_you"][0]["fix"]}]
    assert report["needs_you"][0]["fix"].startswith("v2.sender.name_to_bot (R22): no bot mapping")
    assert report["summary"] == "1 site needs you before this code can run against 3.0"


def test_symlinks_and_outside_files_are_never_touched(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "other.py"
    outside.write_text(V1)
    (project / "pkg" / "link.py").symlink_to(outside)
    (project / "pkg" / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    res = invoke("pkg")
    assert res.exit_code == 0
    assert outside.read_text() == V1
    assert (project / "pkg" / "link.py").is_symlink()
    assert "symlink" in res.stderr


def test_exclude_and_pyproject_config(project):
    (project / "pkg" / "gen").mkdir()
    (project / "pkg" / "gen" / "old.py").write_text(V1)
    (project / "pyproject.toml").write_text('[tool.layer-migrate]\ntarget = "2.0"\nexclude = ["gen"]\n')
    assert invoke("-q", "pkg").exit_code == 0
    assert (project / "pkg" / "client.py").read_text() == V1.replace("1.1", "2.0")
    assert (project / "pkg" / "gen" / "old.py").read_text() == V1


def test_parallel_run_matches_serial(project):
    for i in range(12):
        (project / "pkg" / f"m{i}.py").write_text(V1 + BOT)
    serial = invoke("--diff", "-q", "-j", "1", "pkg").stdout
    parallel = invoke("--diff", "-q", "-j", "2", "pkg").stdout
    assert sorted(serial.split("--- a/")) == sorted(parallel.split("--- a/"))
    assert invoke("-q", "-j", "2", "pkg").exit_code == 0
    assert all((project / "pkg" / f"m{i}.py").read_text().startswith(V3) for i in range(12))


def test_installed_entry_point_runs(project):
    exe = Path(sys.executable).with_name("layer-migrate")
    proc = subprocess.run([str(exe), "codemod", "--check", "-q", "pkg"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr


def test_unknown_pyproject_keys_warn(project):
    (project / "pyproject.toml").write_text('[tool.layer-migrate]\ntarget = "3.0"\nbotmap = "x.json"\n')
    res = invoke("-q", "pkg")
    assert res.exit_code == 0
    assert "warning: unknown [tool.layer-migrate] key(s) ignored: botmap" in res.stderr


def test_only_applies_the_named_rule(project):
    (project / "pkg" / "client.py").write_text(V1 + BOT)
    assert invoke("-q", "--only", "R22", "--bot-map", str(_bots(project)), "pkg").exit_code == 0
    out = (project / "pkg" / "client.py").read_text()
    assert "version=1.1" in out  # the Accept rule was not applied
    assert '"sender_id": "layer:///identities/support-bot"' in out
    assert invoke("-q", "--only", "no.such.rule", "pkg").exit_code == 2


def _bots(project):
    p = project / "bots.json"
    p.write_text('{"Support": "support-bot"}')
    return p
