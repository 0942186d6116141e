"""A fault-injecting HTTP hop between the proxy and the emulator, for the soak test.

Each request draws one fault (seeded, reproducible):

* ``reset_before`` — the connection is aborted before anything reaches the emulator;
* ``reset_after``  — the emulator processes the request, then the connection is aborted instead
  of answering (the "may have reached the upstream" case that must never be blindly retried);
* ``slow``         — the emulator processes it, the answer comes after the proxy's timeout;
* ``unavailable``  — ``503`` without reaching the emulator.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from aiohttp import web

from layer_migrate.proxy.serving import free_port

DROP = {"host", "content-length", "transfer-encoding", "connection"}


@contextmanager
def fault_hop(upstream: str, *, seed: int = 7, reset_before: float = 0.03, reset_after: float = 0.03,
              slow: float = 0.005, slow_seconds: float = 1.5, unavailable: float = 0.03) -> Iterator[tuple[str, Counter]]:
    rng = random.Random(seed)
    seen: Counter[str] = Counter()
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, object] = {}

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        roll = rng.random()
        fault = "none"
        edges = (("reset_before", reset_before), ("unavailable", unavailable),
                 ("reset_after", reset_after), ("slow", slow))
        acc = 0.0
        for name, p in edges:
            acc += p
            if roll < acc:
                fault = name
                break
        seen[fault] += 1
        if fault == "reset_before":
            request.transport.abort()  # type: ignore[union-attr]
            raise asyncio.CancelledError
        if fault == "unavailable":
            return web.json_response({"id": "service_unavailable", "code": 1, "message": "injected",
                                      "url": "x"}, status=503)
        session: aiohttp.ClientSession = state["session"]  # type: ignore[assignment]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP}
        try:
            async with session.request(request.method, upstream + request.path_qs, headers=headers,
                                       data=body or None) as r:
                data = await r.read()
                status, ct = r.status, r.headers.get("content-type", "application/json")
        except aiohttp.ClientError:  # emulator down (restart): look like a dead connection
            request.transport.abort()  # type: ignore[union-attr]
            raise asyncio.CancelledError from None
        if fault == "reset_after":
            request.transport.abort()  # type: ignore[union-attr]
            raise asyncio.CancelledError
        if fault == "slow":
            await asyncio.sleep(slow_seconds)
        return web.Response(status=status, body=data, headers={"content-type": ct})

    async def start() -> None:
        state["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128))
        server = web.Server(handler, access_log=None)
        runner = web.ServerRunner(server, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        state["runner"] = runner

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=main, daemon=True)
    t.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        async def stop() -> None:
            await state["runner"].cleanup()  # type: ignore[attr-defined]
            await state["session"].close()  # type: ignore[attr-defined]

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
