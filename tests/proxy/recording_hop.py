"""A scripted, recording HTTP hop in front of a real upstream (the emulator), for the flow tests.

Every request is recorded (arrival time, client connection, method, path, answer). The next
entry of ``script`` decides what happens to it: ``None`` forwards it to the upstream; a tuple
``(status, content_type, body)`` answers it without forwarding; ``"reset"`` aborts the connection
after the upstream processed it (the "may have reached the upstream" case); ``("delay", s)``
forwards it after ``s`` seconds. An empty script forwards everything.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from layer_migrate.proxy.serving import free_port

DROP = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class Seen:
    at: float
    peer: Any
    method: str
    path: str
    status: int | None  # None: the connection was reset


@dataclass
class Hop:
    url: str
    script: list[Any] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def gaps(self) -> list[float]:
        """Seconds between consecutive arrivals."""
        return [b.at - a.at for a, b in zip(self.seen, self.seen[1:], strict=False)]

    def calls(self, method: str | None = None, contains: str = "") -> list[Seen]:
        return [s for s in self.seen if (method is None or s.method == method) and contains in s.path]


def large_html(status: int, size: int = 100_000) -> tuple[int, str, bytes]:
    """A non-JSON answer above the proxy's streaming threshold (it is streamed, not buffered)."""
    return status, "text/html", b"<html>" + b"x" * size + b"</html>"


@contextmanager
def recording_hop(upstream: str, script: list[Any] | None = None) -> Iterator[Hop]:
    port = free_port()
    hop = Hop(f"http://127.0.0.1:{port}", list(script or []))
    lock = threading.Lock()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        with lock:
            action = hop.script.pop(0) if hop.script else None
            rec = Seen(time.monotonic(), request.transport.get_extra_info("peername") if request.transport else None,
                       request.method, request.path_qs, None)
            hop.seen.append(rec)
        if isinstance(action, tuple) and action[0] == "delay":
            await asyncio.sleep(action[1])
        elif isinstance(action, tuple):
            status, ct, data = action
            rec.status = status
            return web.Response(status=status, body=data, headers={"content-type": ct})
        session: aiohttp.ClientSession = state["session"]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP}
        async with session.request(request.method, upstream + request.path_qs, headers=headers,
                                   data=body or None, allow_redirects=False) as r:
            data = await r.read()
            status, ct = r.status, r.headers.get("content-type", "application/json")
            extra = {k: v for k, v in r.headers.items() if k.lower() in ("location",)}
        if action == "reset":
            request.transport.abort()  # type: ignore[union-attr]
            raise asyncio.CancelledError
        rec.status = status
        return web.Response(status=status, body=data, headers={"content-type": ct, **extra})

    async def start() -> None:
        state["session"] = aiohttp.ClientSession(auto_decompress=True)
        runner = web.ServerRunner(web.Server(handler, access_log=None), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
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
        yield hop
    finally:
        async def stop() -> None:
            await state["runner"].cleanup()
            await state["session"].close()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
