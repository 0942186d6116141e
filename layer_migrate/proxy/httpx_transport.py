"""Migration without a proxy process: an httpx transport (sync and async).

A legacy service keeps sending v1 calls; the transport runs the same exchange flow as the proxy
(:mod:`.flow`) inside the process and talks 2.0/3.0 upstream::

    import httpx
    from layer_migrate.proxy import MigratingTransport

    client = httpx.Client(base_url="https://api.layer.com",
                          transport=MigratingTransport(upstream_version="3.0"))
    client.post(f"/apps/{APP}/conversations/{cid}/messages",
                json={"sender": {"name": "Support"}, "parts": [...]},
                headers={"Accept": "application/vnd.layer+json; version=1.1", ...})

The request goes to the host the client addressed (or to ``upstream=`` when given, which then is
the only host ever contacted). Bot identities for v1 ``sender.name`` are provisioned once per
transport, with the caller's own Authorization header. ``rules=[dir, ...]`` loads user rule
folders on top of the built-in rules; ``engine=`` injects a compiled engine; ``migrator=`` shares
one :class:`~.migrator.Migrator` (and its prerequisite cache) between several transports.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..exchange import Request, Response
from ..identity import BotDirectory
from .bodypolicy import expand
from .client_bodies import adiscard_desynced, aread_httpx, discard_desynced, read_httpx
from .flow import run_async, run_sync
from .http import REQUEST_DROP, RESPONSE_DROP, body_bytes, parse_response_body, strip_hop_by_hop
from .migrator import Migrator, UpstreamFailure

if TYPE_CHECKING:
    from ..engine import Engine


def _failure(exc: httpx.HTTPError) -> UpstreamFailure:
    if isinstance(exc, httpx.ConnectTimeout):
        return UpstreamFailure("connect_timeout", str(exc))
    if isinstance(exc, httpx.ConnectError):
        return UpstreamFailure("connect", str(exc))
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamFailure("timeout", str(exc))
    return UpstreamFailure("reset", type(exc).__name__)


class _Base:
    def __init__(self, upstream_version: str, upstream: str | None, migrator: Migrator | None,
                 **migrator_kw: Any) -> None:
        self.migrator = migrator or Migrator(upstream_version, **migrator_kw)
        self.upstream = httpx.URL(upstream.rstrip("/")) if upstream else None

    @staticmethod
    def _incoming(request: httpx.Request) -> Request:
        """The client's request, body unparsed: the flow parses it once, only to translate."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw}
        return Request(request.method, request.url.raw_path.decode("ascii"), headers, None,
                       request.content or None)

    def _outgoing(self, original: httpx.Request, r: Request) -> httpx.Request:
        base = self.upstream or original.url
        prefix = self.upstream.raw_path.rstrip(b"/") if self.upstream else b""
        url = base.copy_with(raw_path=prefix + r.path.encode("ascii"))
        headers = strip_hop_by_hop(r.headers, REQUEST_DROP)
        return httpx.Request(r.method, url, headers=headers, content=body_bytes(r.body, r.raw),
                             extensions=original.extensions)

    @staticmethod
    def _exchange_response(resp: httpx.Response, parse: bool = True) -> Response:
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if not parse:  # pass-through: the bytes go back as they came
            return Response(resp.status_code, headers, None, resp.content or None)
        body, rest = parse_response_body(headers, resp.content)
        return Response(resp.status_code, headers, body, rest)

    @staticmethod
    def _answer(resp: Response, request: httpx.Request) -> httpx.Response:
        headers = strip_hop_by_hop(resp.headers, RESPONSE_DROP)
        content = body_bytes(resp.body, resp.raw)
        if resp.body is not None and "content-type" not in headers:
            headers["content-type"] = "application/json; charset=UTF-8"
        return httpx.Response(resp.status, headers=expand(headers), content=content, request=request)


class MigratingTransport(_Base, httpx.BaseTransport):
    """``httpx.Client(transport=MigratingTransport(...))``: v1 calls in, 2.0/3.0 on the wire."""

    def __init__(self, upstream_version: str = "3.0", *, transport: httpx.BaseTransport | None = None,
                 upstream: str | None = None, bots: BotDirectory | None = None, options: Any = None,
                 add_dedupe: bool = True, retries: int = 2,
                 engine_options: dict[str, Any] | None = None, engine: Engine | None = None,
                 rules: Iterable[str | Path] = (), backoff: float = 0.05,
                 migrator: Migrator | None = None) -> None:
        super().__init__(upstream_version, upstream, migrator, options=options, bots=bots,
                         add_dedupe=add_dedupe, retries=retries, engine_options=engine_options,
                         engine=engine, rules=rules, backoff=backoff)
        self.inner = transport or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        def send(r: Request, parse: bool = True) -> Response:
            try:
                resp = self.inner.handle_request(self._outgoing(request, r))
                try:
                    return read_httpx(resp, parse=parse)  # the one body policy (bodypolicy.py)
                finally:
                    resp.close()
                    discard_desynced(self.inner)
            except httpx.HTTPError as exc:
                raise _failure(exc) from None

        outcome = run_sync(self.migrator, self._incoming(request), send,
                           send_raw=lambda r: send(r, parse=False))
        return self._answer(outcome.response, request)

    def close(self) -> None:
        self.inner.close()


class AsyncMigratingTransport(_Base, httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=AsyncMigratingTransport(...))``."""

    def __init__(self, upstream_version: str = "3.0", *,
                 transport: httpx.AsyncBaseTransport | None = None, upstream: str | None = None,
                 bots: BotDirectory | None = None, options: Any = None, add_dedupe: bool = True,
                 retries: int = 2, engine_options: dict[str, Any] | None = None,
                 engine: Engine | None = None, rules: Iterable[str | Path] = (), backoff: float = 0.05,
                 migrator: Migrator | None = None) -> None:
        super().__init__(upstream_version, upstream, migrator, options=options, bots=bots,
                         add_dedupe=add_dedupe, retries=retries, engine_options=engine_options,
                         engine=engine, rules=rules, backoff=backoff)
        self.inner = transport or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()

        async def send(r: Request, parse: bool = True) -> Response:
            try:
                resp = await self.inner.handle_async_request(self._outgoing(request, r))
                try:
                    return await aread_httpx(resp, parse=parse)
                finally:
                    await resp.aclose()
                    await adiscard_desynced(self.inner)
            except httpx.HTTPError as exc:
                raise _failure(exc) from None

        outcome = await run_async(self.migrator, self._incoming(request), send,
                                  send_raw=lambda r: send(r, parse=False))
        return self._answer(outcome.response, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
