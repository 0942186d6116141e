"""Bot identities for v1 ``sender.name`` are provisioned once, cached, and safe with several
workers (each worker is its own process with its own cache: 409 = already fulfilled)."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

V1 = "application/vnd.layer+json; version=1.1"


async def send_many(url: str, app: str, cid: str, n: int, name: str) -> list[int]:
    h = {"accept": V1, "authorization": "Bearer emulator-token"}
    async with aiohttp.ClientSession() as s:
        async def one(i: int) -> int:
            body = {"sender": {"name": name}, "parts": [{"body": f"{name}-{i}", "mime_type": "text/plain"}]}
            async with s.post(f"{url}/apps/{app}/conversations/{cid}/messages", json=body, headers=h) as r:
                await r.read()
                return r.status

        return list(await asyncio.gather(*(one(i) for i in range(n))))


def test_single_flight_and_second_worker(tmp_path):
    bots = tmp_path / "bots.json"
    bots.write_text('{"Night Watch": "bot-night"}')
    with Emulator().running() as emu:
        h = emu.headers("3.0")

        httpx.post(emu.url + emu.path("/users/alice/identity"), headers=h, json={"display_name": "a"})
        cid = httpx.post(emu.url + emu.path("/conversations"), headers=h, json={
            "participants": ["layer:///identities/alice"]}).json()["id"].rsplit("/", 1)[-1]
        cfg = ProxyConfig(upstream=emu.url, port=0, access_log=None, bot_map=str(bots))
        with running(cfg) as first:
            statuses = asyncio.run(send_many(first.url, emu.app_id, cid, 40, "Night Watch"))
            assert statuses == [201] * 40
            # 40 concurrent sends, one identity creation
            assert (first.app.migrator.prereqs.created, first.app.migrator.prereqs.existing) == (1, 0)
            metrics = httpx.get(first.url + "/-/metrics").text
            assert 'layer_proxy_rules_applied_total{rule="v2.sender.name_to_bot"' in metrics
            assert 'endpoint="messages.send",mode="translate",status="201"' in metrics
        with running(cfg) as second:  # another worker: empty cache, the identity exists upstream
            assert asyncio.run(send_many(second.url, emu.app_id, cid, 5, "Night Watch")) == [201] * 5
            assert (second.app.migrator.prereqs.created, second.app.migrator.prereqs.existing) == (0, 1)
        ident = httpx.get(emu.url + emu.path("/users/bot-night/identity"), headers=h).json()
        assert ident["display_name"] == "Night Watch" and ident["identity_type"] == "bot"
        senders = {m["parts"][0]["body"].split("-")[0] for m in emu.store.messages(cid)}
        assert senders == {"Night Watch"}


def test_bot_provisioning_with_real_workers(tmp_path):
    """``--workers 2``: two processes, two caches, one bot identity upstream, every send 201."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from layer_migrate.proxy.serving import free_port

    with Emulator().running() as emu:
        h = emu.headers("3.0")
        httpx.post(emu.url + emu.path("/users/alice/identity"), headers=h, json={"display_name": "a"})
        cid = httpx.post(emu.url + emu.path("/conversations"), headers=h, json={
            "participants": ["layer:///identities/alice"]}).json()["id"].rsplit("/", 1)[-1]
        port = free_port()
        p = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "proxy", "--upstream", emu.url,
                              "--port", str(port), "--workers", "2", "--access-log", "off"],
                             stderr=subprocess.DEVNULL, env={**os.environ})
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            statuses = asyncio.run(send_many(f"http://127.0.0.1:{port}", emu.app_id, cid, 60, "Ops Bot"))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(20)
        assert statuses == [201] * 60
        bots = [i for i in emu.store.identities() if i["user_id"].startswith("bot-ops-bot")]
        assert len(bots) == 1 and bots[0]["display_name"] == "Ops Bot"
        assert len(emu.store.messages(cid)) == 60
