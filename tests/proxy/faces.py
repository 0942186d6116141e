"""The five ways a v1 client reaches the one exchange flow, behind one test interface.

``face(name, upstream, **settings)`` yields a :class:`Face` whose ``request(method, path, headers,
body)`` returns ``(status, headers, body bytes)``. Names: ``proxy-fast`` and ``proxy-aiohttp``
(the ASGI proxy with either hot-path upstream client, async driver), ``httpx-async``
(AsyncMigratingTransport, async driver), ``httpx-sync`` (MigratingTransport) and ``requests``
(MigratingAdapter), both on the sync driver. Every face talks to ``upstream`` over real sockets
with a pool of ONE upstream connection, so an answer the flow failed to release would stall the
next attempt instead of passing unnoticed.

``settings``: ``retries``, ``backoff``, ``add_dedupe``, ``engine_options``, ``rules`` (a list of
rule folders) — mapped onto each face's own configuration surface.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import requests

from layer_migrate.proxy import AsyncMigratingTransport, MigratingAdapter, MigratingTransport
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.migrator import Migrator
from layer_migrate.proxy.serving import running

FACES = ["proxy-fast", "proxy-aiohttp", "httpx-async", "httpx-sync", "requests"]
#: the host a legacy client believes it talks to (the in-process faces pin ``upstream=``)
API = "https://api.layer.com"


@dataclass
class Face:
    name: str
    migrator: Migrator
    _send: Any

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        return self._send(method, path, headers, body)


def _result(r: Any) -> tuple[int, dict[str, str], bytes]:
    code = getattr(r, "status_code", None)
    return code, {k.lower(): v for k, v in r.headers.items()}, r.content


@contextmanager
def face(name: str, upstream: str, *, retries: int = 2, backoff: float = 0.05, add_dedupe: bool = True,
         engine_options: dict[str, Any] | None = None, rules: list[str] | None = None) -> Iterator[Face]:
    kw = dict(retries=retries, backoff=backoff, add_dedupe=add_dedupe,
              engine_options=engine_options or {}, rules=tuple(rules or ()))
    if name.startswith("proxy-"):
        cfg = ProxyConfig(upstream=upstream, port=0, access_log=None, retries=retries, retry_backoff=backoff,
                          add_dedupe=add_dedupe, engine_options=engine_options or {}, pool_size=1,
                          upstream_client=name.removeprefix("proxy-"), upstream_timeout=10,
                          rules_dir=(rules or [None])[0])
        with running(cfg) as proxy, httpx.Client(base_url=proxy.url, timeout=20) as c:
            yield Face(name, proxy.app.migrator,
                       lambda m, p, h, b: _result(c.request(m, p, headers=h, content=b)))
        return
    if name == "httpx-sync":
        t = MigratingTransport("3.0", upstream=upstream, transport=httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=1)), **kw)
        with httpx.Client(base_url=API, transport=t, timeout=20) as c:
            yield Face(name, t.migrator, lambda m, p, h, b: _result(c.request(m, p, headers=h, content=b)))
        return
    if name == "requests":
        a = MigratingAdapter("3.0", upstream=upstream, pool_connections=1, pool_maxsize=1, pool_block=True, **kw)
        with requests.Session() as s:
            s.mount(API + "/", a)
            yield Face(name, a.migrator,
                       lambda m, p, h, b: _result(s.request(m, API + p, headers=h, data=b, timeout=20)))
        return
    assert name == "httpx-async", name
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    t = AsyncMigratingTransport("3.0", upstream=upstream, transport=httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=1)), **kw)

    async def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=API, transport=t, timeout=20)

    client = asyncio.run_coroutine_threadsafe(make(), loop).result(10)

    def send(m: str, p: str, h: dict[str, str], b: bytes | None) -> tuple[int, dict[str, str], bytes]:
        fut = asyncio.run_coroutine_threadsafe(client.request(m, p, headers=h, content=b), loop)
        return _result(fut.result(30))

    try:
        yield Face(name, t.migrator, send)
    finally:
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
