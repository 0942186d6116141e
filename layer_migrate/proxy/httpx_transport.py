"""Migration without a proxy process: an httpx transport (sync and async).

A legacy service keeps sending v1 calls; the transport runs the same exchange loop as the proxy
(:mod:`.exchange_loop`) inside the process and talks 2.0/3.0 upstream::

    import httpx
    from layer_migrate.proxy import MigratingTransport

    client = httpx.Client(base_url="https://api.layer.com",
                          transport=MigratingTransport(upstream_version="3.0"))
    client.post(f"/apps/{APP}/conversations/{cid}/messages",
                json={"sender": {"name": "Support"}, "parts": [...]},
                headers={"Accept": "application/vnd.layer+json; version=1.1", ...})

The request goes to the host the client addressed (or to ``upstream=`` when given, which then is
the only host ever contacted). Bot identities for v1 ``sender.name`` are provisioned once per
transport, with the caller's own Authorization header.
"""

from __future__ import annotations

from typing import Any

import httpx

from .. import routes
from ..errors import LayerError
from ..exchange import Request, Response
from ..identity import BotDirectory
from .bodypolicy import expand
from .client_bodies import adiscard_desynced, aread_httpx, discard_desynced, read_httpx
from .exchange_loop import Migrator, UpstreamFailure, error_response, run_async, run_sync
from .http import (
    REQUEST_DROP,
    RESPONSE_DROP,
    body_bytes,
    parse_request_body,
    parse_response_body,
    strip_hop_by_hop,
)


def _failure(exc: httpx.HTTPError) -> UpstreamFailure:
    if isinstance(exc, httpx.ConnectTimeout):
        return UpstreamFailure("connect_timeout", str(exc))
    if isinstance(exc, httpx.ConnectError):
        return UpstreamFailure("connect", str(exc))
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamFailure("timeout", str(exc))
    return UpstreamFailure("reset", type(exc).__name__)


class _Base:
    def __init__(self, upstream_version: str, upstream: str | None, bots: BotDirectory | None,
                 options: Any, add_dedupe: bool, retries: int, engine_options: dict[str, Any] | None) -> None:
        self.migrator = Migrator(upstream_version, options=options, bots=bots, add_dedupe=add_dedupe,
                                 retries=retries, engine_options=engine_options)
        self.upstream = httpx.URL(upstream.rstrip("/")) if upstream else None

    def _incoming(self, request: httpx.Request) -> Request:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw}
        raw = request.content
        req = Request(request.method, request.url.raw_path.decode("ascii"), headers, None, raw or None)
        body, rest = parse_request_body(headers, raw, routes.match(req.method, req.path) is not None)
        req.body, req.raw = body, rest
        return req

    def _outgoing(self, original: httpx.Request, r: Request) -> httpx.Request:
        base = self.upstream or original.url
        prefix = self.upstream.raw_path.rstrip(b"/") if self.upstream else b""
        url = base.copy_with(raw_path=prefix + r.path.encode("ascii"))
        headers = strip_hop_by_hop(r.headers, REQUEST_DROP)
        return httpx.Request(r.method, url, headers=headers, content=body_bytes(r.body, r.raw),
                             extensions=original.extensions)

    @staticmethod
    def _exchange_response(resp: httpx.Response) -> Response:
        headers = {k.lower(): v for k, v in resp.headers.items()}
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
                 engine_options: dict[str, Any] | None = None) -> None:
        super().__init__(upstream_version, upstream, bots, options, add_dedupe, retries, engine_options)
        self.inner = transport or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        try:
            req = self._incoming(request)
        except LayerError as exc:  # unreadable body: answered like the API would, nothing sent
            return self._answer(error_response(exc), request)

        def send(r: Request) -> Response:
            try:
                resp = self.inner.handle_request(self._outgoing(request, r))
                try:
                    return read_httpx(resp)  # the one body policy (bodypolicy.py)
                finally:
                    resp.close()
                    discard_desynced(self.inner)
            except httpx.HTTPError as exc:
                raise _failure(exc) from None

        return self._answer(run_sync(self.migrator, req, send).response, request)

    def close(self) -> None:
        self.inner.close()


class AsyncMigratingTransport(_Base, httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=AsyncMigratingTransport(...))``."""

    def __init__(self, upstream_version: str = "3.0", *,
                 transport: httpx.AsyncBaseTransport | None = None, upstream: str | None = None,
                 bots: BotDirectory | None = None, options: Any = None, add_dedupe: bool = True,
                 retries: int = 2, engine_options: dict[str, Any] | None = None) -> None:
        super().__init__(upstream_version, upstream, bots, options, add_dedupe, retries, engine_options)
        self.inner = transport or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        try:
            req = self._incoming(request)
        except LayerError as exc:
            return self._answer(error_response(exc), request)

        async def send(r: Request) -> Response:
            try:
                resp = await self.inner.handle_async_request(self._outgoing(request, r))
                try:
                    return await aread_httpx(resp)
                finally:
                    await resp.aclose()
                    await adiscard_desynced(self.inner)
            except httpx.HTTPError as exc:
                raise _failure(exc) from None

        outcome = await run_async(self.migrator, req, send)
        return self._answer(outcome.response, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
