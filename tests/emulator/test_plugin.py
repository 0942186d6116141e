"""The pytest plugin works the documented way: ``pytest_plugins = ["layer_migrate.emulator.testing"]``."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_plugin_fixture_in_a_fresh_project(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["layer_migrate.emulator.testing"]\n')
    (tmp_path / "test_uses_emulator.py").write_text(textwrap.dedent('''
        import httpx

        def test_emulator(emulator, emulator_client):
            assert emulator.url.startswith("http://127.0.0.1:")
            r = emulator_client.post(emulator.path("/conversations"), json={"participants": ["a"]},
                                     headers={"Accept": "application/vnd.layer+json; version=1.0"})
            assert r.status_code == 201
            assert len(emulator.store.conversations()) == 1

        def test_lenient(lenient_emulator):
            r = httpx.post(lenient_emulator.url + lenient_emulator.path("/conversations"),
                           json={"participants": ["a"]}, headers=lenient_emulator.headers("3.0"))
            assert r.status_code == 201
    '''))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
