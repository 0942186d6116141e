"""``layer-migrate run``: the program runs unmodified with the installation active from its start;
exit status, standard streams and signals pass through; bad settings exit 2 with one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from layer_migrate.emulator import Emulator
from layer_migrate.inprocess.run import SITE_DIR

LM = [sys.executable, "-m", "layer_migrate.cli", "run"]
PY = sys.executable

# A v1 program that knows nothing of layer-migrate: module-level requests against the real host.
PROGRAM = """
import sys, requests
r = requests.post("https://api.layer.com/apps/%s/conversations", timeout=10,
                  json={"participants": ["alice", "bob"], "distinct": False},
                  headers={"Accept": "application/vnd.layer+json; version=1.0",
                           "Authorization": "Bearer %s"})
print(r.status_code, r.json()["participants"])
"""


def _run(args, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run(LM + args, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def emu():
    with Emulator().running() as e:
        yield e


def test_runs_an_unmodified_program_migrated(emu):
    p = _run(["--to", "3.0", "--upstream", emu.url, "--", PY, "-c", PROGRAM % (emu.app_id, emu.token)])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "201 ['alice', 'bob']\n"
    assert p.stderr == ""


def test_env_form_and_summary(emu):
    env = {**os.environ, "LAYER_MIGRATE_TO": "3.0", "LAYER_MIGRATE_UPSTREAM": emu.url,
           "LAYER_MIGRATE_SUMMARY": "1"}
    p = _run(["--", PY, "-c", PROGRAM % (emu.app_id, emu.token)], env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("201 ")
    assert "layer-migrate: rules applied per endpoint" in p.stderr
    assert "conversations.create: 1 call(s)" in p.stderr and "hdr.accept.v3 x1" in p.stderr


def test_container_env_without_run(emu):
    """The env form with the private PYTHONPATH set by hand (e.g. in a Dockerfile)."""
    env = {**os.environ, "LAYER_MIGRATE_TO": "3.0", "LAYER_MIGRATE_UPSTREAM": emu.url,
           "PYTHONPATH": str(SITE_DIR)}
    p = subprocess.run([PY, "-c", PROGRAM % (emu.app_id, emu.token)], env=env, capture_output=True,
                       text=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, "201 ['alice', 'bob']\n"), p.stderr


def test_debug_log_to_stderr_without_token(emu):
    p = _run(["--to", "3.0", "--upstream", emu.url, "--log-level", "debug", "--",
              PY, "-c", PROGRAM % (emu.app_id, emu.token)])
    assert p.returncode == 0, p.stderr
    assert "[conversations.create] 1.0 -> 3.0: status 201, rules: hdr.accept.v1_0-v1_1" in p.stderr
    assert emu.token not in p.stderr


@pytest.mark.parametrize("code", [0, 3, 77])
def test_exit_status_passes_through(code):
    p = _run(["--to", "3.0", "--", PY, "-c", f"import sys; sys.exit({code})"])
    assert p.returncode == code


def test_stdin_stdout_stderr_pass_through():
    prog = "import sys; data = sys.stdin.read(); sys.stdout.write(data.upper()); sys.stderr.write('e!')"
    p = _run(["--to", "3.0", "--", PY, "-c", prog], input="hello\nworld\n")
    assert (p.returncode, p.stdout, p.stderr) == (0, "HELLO\nWORLD\n", "e!")


def test_signals_reach_the_program():
    prog = ("import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, lambda *a: (print('got SIGTERM', flush=True), sys.exit(5)))\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n")
    proc = subprocess.Popen(LM + ["--to", "3.0", "--", PY, "-c", prog], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)  # to the pid we started: `run` exec'd the program
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, out) == (5, "got SIGTERM\n"), err


def test_killed_program_reports_the_signal():
    p = _run(["--to", "3.0", "--", PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert p.returncode == -signal.SIGKILL


def test_existing_sitecustomize_still_runs_and_sys_path_is_clean(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import builtins\nbuiltins.THEIRS = 'ran'\n")
    prog = ("import builtins, sys, layer_migrate.inprocess as ip\n"
            "print(builtins.THEIRS, ip.current() is not None)\n"
            "print(any('inprocess' in p and p.endswith('site') for p in sys.path))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    p = _run(["--to", "3.0", "--", PY, "-c", prog], env=env)
    assert (p.returncode, p.stdout) == (0, "ran True\nFalse\n"), p.stderr


def test_installation_is_active_before_the_first_line():
    prog = "import sys; import layer_migrate.inprocess as ip; print(ip.current().config.describe())"
    p = _run(["--to", "2.0", "--host", "a.example", "--host", "b.example:8443", "--upstream",
              "http://127.0.0.1:1", "--", PY, "-c", prog])
    assert p.stdout == "to=2.0 hosts=a.example,b.example:8443 upstream=http://127.0.0.1:1\n", p.stderr


@pytest.mark.parametrize("args, message", [
    (["--to", "4.0"], "layer-migrate run: unknown Platform API version '4.0'"),
    ([], "layer-migrate run: --to VERSION is required (or set LAYER_MIGRATE_TO)"),
    (["--to", "3.0", "--upstream", "localhost:8000"], "upstream must be an http(s)://host[:port] URL"),
    (["--to", "3.0", "--bot-map", "/nonexistent.json"], "/nonexistent.json: cannot read bot map"),
])
def test_bad_settings_exit_2_with_one_line(args, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAYER_MIGRATE_")}
    p = _run(args + ["--", PY, "-c", "print('must not run')"], env=env)
    assert p.returncode == 2
    assert p.stdout == ""
    assert message in p.stderr and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_bad_env_stops_the_program_before_it_starts():
    env = {**os.environ, "LAYER_MIGRATE_TO": "3.0", "LAYER_MIGRATE_UPSTREAM": "nope",
           "PYTHONPATH": str(SITE_DIR)}
    p = subprocess.run([PY, "-c", "print('must not run')"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == "layer-migrate: LAYER_MIGRATE_UPSTREAM: upstream must be an http(s)://host[:port] URL, not 'nope'\n"


def test_command_not_found_is_127():
    p = _run(["--to", "3.0", "--", "no-such-command-xyz"])
    assert p.returncode == 127 and p.stderr == "layer-migrate run: no-such-command-xyz: command not found\n"


def test_help_has_an_example():
    p = _run(["--help"])
    assert p.returncode == 0
    assert "layer-migrate run --to 3.0 --upstream" in p.stdout and "-- python app.py" in p.stdout


def test_site_dir_ships_only_sitecustomize():
    assert sorted(f.name for f in Path(SITE_DIR).iterdir() if f.suffix == ".py") == ["sitecustomize.py"]
    assert not (Path(SITE_DIR) / "__init__.py").exists()  # a directory on PYTHONPATH, not a package


def test_startup_imports_nothing_heavy():
    """Installing must not import the HTTP libraries, the exchange loop or the rulebook (they load
    on first use; start-up cost is measured in bench/inprocess.py, not here)."""
    prog = ("import sys, time\n"
            "print(sorted(m for m in ('requests', 'httpx', 'aiohttp', 'layer_migrate.engine', "
            "'layer_migrate.proxy.migrator', 'layer_migrate.proxy.flow', 'asyncio') "
            "if m in sys.modules))\n")
    p = _run(["--to", "3.0", "--", PY, "-c", prog])
    assert p.stdout == "[]\n", p.stderr
