"""``layer-migrate emulator --as-of YYYY-MM-DD`` end to end: a real process on a free port."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

APP = "/apps/00000000-0000-4000-8000-00000000a991"
H = {"Authorization": "Bearer emulator-token", "Accept": "application/vnd.layer+json; version=1.0"}


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "emulator", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _url(proc: subprocess.Popen[str]) -> tuple[str, str]:
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert "listening on http://127.0.0.1:" in line, line
    return line.strip().rsplit(" ", 1)[-1], proc.stdout.readline()  # type: ignore[union-attr]


@pytest.mark.parametrize(("as_of", "status", "label"), [("2015-09-15", 303, "as of: 2015-09-15"),
                                                        (None, 200, "as of: latest")])
def test_cli_as_of_distinct_status(as_of: str | None, status: int, label: str) -> None:
    proc = _run(*(["--as-of", as_of] if as_of else []))
    try:
        url, info = _url(proc)
        assert label in info
        deadline = time.monotonic() + 10
        while True:
            try:
                first = httpx.post(url + APP + "/conversations", json={"participants": ["a", "b"]}, headers=H)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert first.status_code == 201
        again = httpx.post(url + APP + "/conversations", json={"participants": ["a", "b"]}, headers=H)
        assert again.status_code == status
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(("value", "reason"), [("2015-13-01", "not a date of the form YYYY-MM-DD"),
                                               ("yesterday", "not a date of the form YYYY-MM-DD"),
                                               ("2015-06-03", "before the Platform API launched")])
def test_cli_bad_as_of_exits_2(value: str, reason: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "layer_migrate.cli", "emulator", "--as-of", value],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and reason in proc.stderr and "Traceback" not in proc.stderr
