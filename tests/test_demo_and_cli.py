"""The first-run experience: `layer-migrate demo` and every command's --help (issue 6)."""

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from layer_migrate.cli import SUBCOMMANDS, main


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="80", TERM="dumb")
    return subprocess.run([sys.executable, "-m", "layer_migrate.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_demo_runs_every_step_and_fits_80_columns(tmp_path):
    keep = tmp_path / "kept"
    proc = run_cli("demo", "--keep", str(keep))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for section in ("1. Emulator", "2. The sample v1 client", "3. A 3.0 webhook", "4. The codemod", "Try next"):
        assert section in out
    # v1 calls became their 3.0 forms with the rules that did it
    assert "POST /users/alice/blocks" in out and "PATCH" in out
    assert "R38" in out and "R22" in out and "R14" in out
    assert "message.sent  from 'alice'" in out
    assert "demo finished" in out
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    # the per-file codemod summary names each file; the whole diff is kept, not cut at column 80
    assert "legacy_app/legacy_app/layer_client.py" in out
    diff = (keep / "codemod.diff").read_text(encoding="utf-8")
    assert "+++ b/legacy_app/legacy_app/layer_client.py" in diff
    assert 'version=3.0"' in diff and all(len(line) <= 80 or line[0] in "+- " for line in diff.splitlines())
    assert "full diff kept:" in out
    assert (keep / "codemod-report.json").is_file()


def test_demo_try_next_commands_work_as_written(tmp_path):
    """Every 'Try next' line (but the long-running emulator) runs as printed, in a fresh folder."""
    from layer_migrate.demo import TRY_NEXT

    commands, pending = [], ""
    for line in TRY_NEXT:
        text = line.split("   ")[0].strip() if not pending else line.strip()
        pending += " " + text.rstrip("\\").strip()
        if not text.endswith("\\"):
            commands.append(pending.split())
            pending = ""
    assert [c[1] for c in commands] == ["rules", "samples", "translate", "codemod", "emulator"]
    for argv in commands[:-1]:
        proc = subprocess.run([sys.executable, "-m", "layer_migrate.cli", *argv[1:]], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)


def all_command_paths() -> list[list[str]]:
    """Every command and nested subcommand (translate request, proxy report, ...)."""
    paths: list[list[str]] = [[]]
    for name in sorted(SUBCOMMANDS):
        paths.append([name])
        command = main.get_command(None, name)
        if isinstance(command, click.Group):
            paths.extend([name, sub] for sub in command.list_commands(None))
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "layer-migrate")
def test_every_command_help_has_an_example(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "example" in result.output.lower(), result.output


def test_top_level_help_lists_commands_without_importing_them():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in SUBCOMMANDS:
        assert command in result.output


def test_unknown_command_is_a_one_line_error():
    proc = run_cli("frobnicate", timeout=60)
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
    assert "Traceback" not in proc.stderr
