"""Nothing lost, nothing duplicated — under injected faults (issue 4 "done when").

v1 clients send messages at concurrency 64 through the proxy; between the proxy and the emulator
(3.0) a fault hop resets connections before and *after* the emulator processed requests, answers
503s and stalls past the proxy's timeout. Afterwards the emulator's store must hold every
acknowledged message exactly once and no message twice.

Default size is bounded for the suite; ``LAYER_MIGRATE_SOAK_SENDS=5000`` runs the big soak.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter

import aiohttp
import httpx
import pytest
from faults import fault_hop

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

SENDS = int(os.environ.get("LAYER_MIGRATE_SOAK_SENDS", "800"))
CONCURRENCY = 64
V1 = "application/vnd.layer+json; version=1.1"


async def blast(url: str, app: str, cid: str, n: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    h = {"accept": V1, "authorization": "Bearer emulator-token", "content-type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY),
                                     timeout=aiohttp.ClientTimeout(total=60)) as s:
        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                sender = {"name": "Support"} if i % 5 == 0 else {"user_id": "alice"}
                body = {"sender": sender, "parts": [{"body": f"m-{i}", "mime_type": "text/plain"}]}
                async with s.post(f"{url}/apps/{app}/conversations/{cid}/messages", json=body, headers=h) as r:
                    data = await r.json(content_type=None)
                    statuses[i] = r.status
                    if r.status == 201:
                        assert data["parts"][0]["body"] == f"m-{i}"
                    else:
                        assert set(data) >= {"id", "code", "message", "url"}, data  # a Layer error

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


@pytest.mark.slow
def test_soak_exactly_once_under_faults():
    emu = Emulator()
    with emu.running():
        h = emu.headers("3.0")
        for u in ("alice", "bob"):
            httpx.post(emu.url + emu.path(f"/users/{u}/identity"), headers=h, json={"display_name": u})
        conv = httpx.post(emu.url + emu.path("/conversations"), headers=h, json={
            "participants": ["layer:///identities/alice", "layer:///identities/bob"]}).json()
        cid = conv["id"].rsplit("/", 1)[-1]
        with fault_hop(emu.url) as (hop, faults), running(ProxyConfig(
                upstream=hop, port=0, access_log=None, retries=4, retry_backoff=0.01,
                upstream_timeout=0.5)) as proxy:
            statuses = asyncio.run(blast(proxy.url, emu.app_id, cid, SENDS))
            metrics = httpx.get(proxy.url + "/-/metrics").text
        stored = Counter(m["parts"][0]["body"] for m in emu.store.messages(cid))
    emu.close()

    acked = {i for i, s in statuses.items() if s == 201}
    assert len(statuses) == SENDS
    assert faults["reset_after"] > 0 and faults["reset_before"] > 0 and faults["unavailable"] > 0
    duplicates = {b: n for b, n in stored.items() if n > 1}
    assert duplicates == {}, f"duplicated messages: {list(duplicates)[:10]}"
    missing = [i for i in acked if stored[f"m-{i}"] != 1]
    assert missing == [], f"acknowledged but not stored exactly once: {missing[:10]}"
    # the retries did their job: almost everything was acknowledged despite the faults
    assert len(acked) >= SENDS * 0.97, Counter(statuses.values())
    assert "layer_proxy_upstream_retries_total" in metrics
    print(f"\nsoak: {SENDS} sends, {len(acked)} acknowledged, statuses {dict(Counter(statuses.values()))}, "
          f"faults {dict(faults)}, stored {sum(stored.values())}")


@pytest.mark.slow
def test_upstream_restart_mid_run():
    """The emulator goes away and comes back (same port, same store) during a run."""
    import threading
    import time

    emu = Emulator()
    with emu.running():
        h = emu.headers("3.0")
        httpx.post(emu.url + emu.path("/users/alice/identity"), headers=h, json={"display_name": "a"})
        conv = httpx.post(emu.url + emu.path("/conversations"), headers=h, json={
            "participants": ["layer:///identities/alice"]}).json()
        cid = conv["id"].rsplit("/", 1)[-1]
        with running(ProxyConfig(upstream=emu.url, port=0, access_log=None, retries=8,
                                 retry_backoff=0.03, upstream_timeout=2.0)) as proxy:
            marks: dict[str, float] = {}

            def restart() -> None:
                time.sleep(0.15)
                marks["down"] = time.monotonic()
                emu.stop()
                time.sleep(0.3)
                emu.start()
                marks["up"] = time.monotonic()

            t = threading.Thread(target=restart)
            t.start()
            began = time.monotonic()
            statuses = asyncio.run(blast(proxy.url, emu.app_id, cid, 1500))
            ended = time.monotonic()
            t.join()
            retries = httpx.get(proxy.url + "/-/metrics").text
        stored = Counter(m["parts"][0]["body"] for m in emu.store.messages(cid))
    emu.close()
    acked = {i for i, s in statuses.items() if s == 201}
    assert {b: n for b, n in stored.items() if n > 1} == {}
    assert all(stored[f"m-{i}"] == 1 for i in acked)
    assert set(statuses.values()) <= {201, 502, 504}, Counter(statuses.values())
    assert began < marks["down"] < marks["up"] < ended, "the restart did not happen mid-run"
    assert any(line.startswith("layer_proxy_upstream_retries_total ") and float(line.split()[1]) > 0
               for line in retries.splitlines())
    assert len(acked) >= 700
    print(f"\nrestart: {dict(Counter(statuses.values()))}, stored {sum(stored.values())}")
