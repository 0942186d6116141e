"""Concurrency (no lost or duplicated writes), --db persistence across restarts, and the CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from layer_migrate.emulator import Emulator

from .conftest import cid, text


def test_concurrent_sends_no_lost_or_duplicated_writes(emulator):
    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=emulator.url, headers=emulator.headers("1.0"), limits=limits,
                                     timeout=30) as c:
            r = await c.post(emulator.path("/conversations"), json={"participants": ["a", "b"], "distinct": False})
            conv = r.json()
            sem = asyncio.Semaphore(64)

            async def one(i: int) -> int:
                async with sem:
                    resp = await c.post(emulator.path(f"/conversations/{cid(conv)}/messages"),
                                        json={"sender": {"user_id": "a"}, "parts": text(str(i))})
                    return resp.status_code

            return await asyncio.gather(*(one(i) for i in range(400)))

    statuses = asyncio.run(run())
    assert statuses.count(201) == 400
    bodies = sorted(int(m["parts"][0]["body"]) for m in emulator.store.messages())
    assert bodies == list(range(400))


def test_concurrent_distinct_creates_make_one_conversation(emulator):
    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=emulator.url, headers=emulator.headers("1.0"), timeout=30) as c:
            return [r.status_code for r in await asyncio.gather(*(
                c.post(emulator.path("/conversations"), json={"participants": ["x", "y"], "distinct": True})
                for _ in range(50)))]

    statuses = asyncio.run(run())
    assert statuses.count(201) == 1 and statuses.count(200) == 49
    assert len(emulator.store.conversations()) == 1


def test_db_file_survives_restart(tmp_path):
    db = str(tmp_path / "layer.sqlite")
    emu = Emulator(db=db)
    with emu.running(), httpx.Client(base_url=emu.url, headers=emu.headers("1.0")) as c:
        conv = c.post(emu.path("/conversations"), json={"participants": ["a", "b"]}).json()
        c.post(emu.path(f"/conversations/{cid(conv)}/messages"), json={"sender": {"user_id": "a"}, "parts": text("kept")})
        c.post(emu.path("/users/a/identity"), json={"display_name": "A"})
        c.post(emu.path("/users/a/blocks"), json={"user_id": "z"})
    emu.close()
    again = Emulator(db=db)
    with again.running(), httpx.Client(base_url=again.url, headers=again.headers("3.0")) as c:
        msgs = c.get(again.path(f"/conversations/{cid(conv)}/messages")).json()
        assert [m["parts"][0]["body"] for m in msgs] == ["kept"]
        assert c.get(again.path("/users/a/identity")).json()["display_name"] == "A"
        assert [b["user_id"] for b in c.get(again.path("/users/a/blocks")).json()] == ["z"]
        # new writes do not collide with old sequence numbers
        c.post(again.path(f"/conversations/{cid(conv)}/messages"), json={"sender_id": "layer:///identities/a", "parts": text("new")})
        assert [m["parts"][0]["body"] for m in c.get(again.path(f"/conversations/{cid(conv)}/messages")).json()] == ["new", "kept"]
    again.close()


def test_cli_help_documents_every_option():
    out = subprocess.run([sys.executable, "-m", "layer_migrate.cli", "emulator", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for opt in ("--host", "--port", "--db", "--token", "--lenient", "--app-id", "--base-url"):
        assert opt in out
    assert out.count("Example:") >= 7


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_runs_prints_url_and_stops_on_signal(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "emulator", "--port", "0", "--db",
                             str(tmp_path / "x.sqlite")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.strip().rsplit(" ", 1)[-1]
        rest = proc.stdout.readline() + proc.stdout.readline()
        assert "emulator-token" in rest
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(url + "/apps/00000000-0000-4000-8000-00000000a991/users/x",
                              headers={"Authorization": "Bearer emulator-token",
                                       "Accept": "application/vnd.layer+json; version=1.0"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.status_code == 404 and r.json()["id"] == "not_found"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert "emulator stopped" in proc.stdout.read()
        with sqlite3.connect(tmp_path / "x.sqlite") as check:
            assert check.execute("SELECT COUNT(*) FROM users").fetchone() == (0,)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_bad_app_id_exits_2():
    proc = subprocess.run([sys.executable, "-m", "layer_migrate.cli", "emulator", "--app-id", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_cli_bad_db_exits_2(tmp_path):
    bad = tmp_path / "dir"
    bad.mkdir()
    proc = subprocess.run([sys.executable, "-m", "layer_migrate.cli", "emulator", "--db", str(bad / "missing" / "x.db")],
                          capture_output=True, text=True, env={**os.environ})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
