"""aiohttp: a client middleware on every ClientSession runs the exchange loop for Layer hosts.

Client middlewares (aiohttp ≥ 3.12, ``ClientSession(middlewares=...)``) are aiohttp's public hook
for "intercept a request, send other requests, return a response"; ``request.session`` exists so a
middleware can make its own requests, and ``middlewares=()`` on those keeps them from re-entering.
Sessions get the middleware by a wrapper around ``ClientSession.__init__`` that appends it to the
``middlewares`` argument (innermost, so the program's own middlewares still see its v1 calls) —
this covers ``aiohttp.request()`` and every session created after ``install()`` (with
``layer-migrate run``: all of them). A session created *before* ``install()`` is not migrated;
nothing public reaches it (``ClientSession._request`` would, and is private).

The answer handed back is a :class:`aiohttp.ClientResponse` built for the translated response:
status, reason, headers and a body stream the caller reads as usual (``read``/``text``/``json``/
``content``). aiohttp has no public constructor for that; :func:`build_response` is the one
place that relies on its internals (the constructor's keywords, ``_headers``/``_raw_headers``)
and ``tests/inprocess/test_inprocess_pins.py`` pins it.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from .patching import Patch

__all__ = ["AiohttpFace", "build_response", "hook_aiohttp"]


def _failure(exc: BaseException) -> Any:
    import asyncio

    import aiohttp

    from ..proxy.migrator import UpstreamFailure

    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return UpstreamFailure("tls", str(exc))
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamFailure("connect_timeout", str(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamFailure("connect", str(exc))
    if isinstance(exc, asyncio.TimeoutError):
        return UpstreamFailure("timeout", str(exc))
    return UpstreamFailure("reset", type(exc).__name__)


class _NoWriter:
    """What aiohttp's ClientResponse reads from a finished request writer: bytes sent so far."""

    output_size = 0


def build_response(req: Any, status: int, headers: dict[str, str], content: bytes) -> Any:
    """A ClientResponse for ``req`` (the caller's request) answering ``status``/``headers``/``content``."""
    import asyncio
    from http import HTTPStatus

    from aiohttp import ClientResponse
    from aiohttp.base_protocol import BaseProtocol
    from aiohttp.helpers import TimerNoop
    from aiohttp.streams import StreamReader
    from multidict import CIMultiDict, CIMultiDictProxy

    loop = asyncio.get_running_loop()
    cls = getattr(req, "response_class", None) or ClientResponse
    kwargs: dict[str, Any] = dict(writer=None, continue100=None, timer=TimerNoop(),
                                  request_info=req.request_info, traces=[], loop=loop,
                                  session=req.session)
    if "stream_writer" in _init_params(cls):
        kwargs["stream_writer"] = _NoWriter()
    resp = cls(req.method, req.url, **kwargs)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    resp.version = req.version
    resp.status = status
    resp.reason = reason
    h = CIMultiDict(headers)
    resp._headers = CIMultiDictProxy(h)
    resp._raw_headers = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in h.items())
    stream = StreamReader(BaseProtocol(loop), max(2**16, len(content) + 1), loop=loop)
    if content:
        stream.feed_data(content)
    stream.feed_eof()
    resp.content = stream
    return resp


_PARAMS: dict[type, frozenset[str]] = {}


def _init_params(cls: type) -> frozenset[str]:
    p = _PARAMS.get(cls)
    if p is None:
        p = _PARAMS[cls] = frozenset(inspect.signature(cls).parameters)
    return p


class AiohttpFace:
    """The exchange loop for one aiohttp request, sharing the installation's loop state."""

    def __init__(self, installation: Any) -> None:
        self.installation = installation

    async def exchange(self, req: Any) -> Any:
        # Imported here, not at module level: ``layer-migrate run`` imports this module at start-up
        # and a program that never calls Layer must not pay for the exchange loop.
        from yarl import URL

        from .. import routes
        from ..errors import LayerError
        from ..exchange import Request, Response
        from ..proxy.flow import run_async
        from ..proxy.http import (
            REQUEST_DROP,
            body_bytes,
            parse_request_body,
            parse_response_body,
            strip_hop_by_hop,
        )
        from ..proxy.migrator import error_response

        cfg = self.installation.config
        migrator = self.installation.migrator
        headers: dict[str, str] = {}
        for k, v in req.headers.items():
            k = k.lower()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        body = req.body
        raw = await body.as_bytes() if body else b""
        path = req.url.raw_path_qs
        incoming = Request(req.method, path, headers, None, raw or None)
        try:
            parsed, rest = parse_request_body(headers, raw, routes.match(incoming.method, incoming.path) is not None)
            incoming.body, incoming.raw = parsed, rest
        except LayerError as exc:
            return self._answer(req, error_response(exc))
        if cfg.upstream:
            base = URL(cfg.upstream)
            origin, prefix = base.origin(), base.raw_path.rstrip("/")
        else:
            origin, prefix = req.url.origin(), ""
        session = req.session

        async def send(r: Request) -> Response:
            url = URL(str(origin) + prefix + r.path, encoded=True)
            out_headers = strip_hop_by_hop(r.headers, REQUEST_DROP)
            if getattr(session, "auth", None) is not None:
                out_headers.pop("authorization", None)  # the session adds its own again
            data = body_bytes(r.body, r.raw)
            try:
                resp = await session.request(r.method, url, headers=out_headers, data=data or None,
                                             middlewares=(), allow_redirects=False, ssl=req.ssl,
                                             proxy=req.proxy, proxy_auth=req.proxy_auth)
                try:
                    content = await resp.read()
                finally:
                    resp.release()
            except Exception as exc:  # aiohttp.ClientError, OSError, timeouts
                raise _failure(exc) from None
            rh: dict[str, str] = {}
            for k, v in resp.headers.items():
                k = k.lower()
                rh[k] = f"{rh[k]}, {v}" if k in rh and k != "set-cookie" else v
            parsed_, rest_ = parse_response_body(rh, content)
            return Response(resp.status, rh, parsed_, rest_)

        outcome = await run_async(migrator, incoming, send)
        return self._answer(req, outcome.response)

    @staticmethod
    def _answer(req: Any, resp: Any) -> Any:
        from ..proxy.http import RESPONSE_DROP, body_bytes, strip_hop_by_hop

        headers = strip_hop_by_hop(resp.headers, RESPONSE_DROP)
        content = body_bytes(resp.body, resp.raw)
        if resp.body is not None and "content-type" not in headers:
            headers["content-type"] = "application/json; charset=UTF-8"
        headers["content-length"] = str(len(content))
        return build_response(req, resp.status, headers, content)


def hook_aiohttp(module: ModuleType, state: Any) -> list[Patch]:
    """Wrap ``ClientSession.__init__`` so each new session carries the migrating middleware."""

    def layer_migrate_middleware(req: Any, handler: Any) -> Any:
        # A plain function returning the awaitable (aiohttp awaits what a middleware returns):
        # a non-Layer request pays no extra coroutine frame.
        inst = state.active
        if inst is None:
            return handler(req)
        url = req.url
        cfg = inst.config
        host = url.host  # yarl: lower-case
        if not cfg.may_match(host) or url.scheme not in ("http", "https") or not cfg.matches(
                host, None if url.is_default_port() else url.port):
            return handler(req)
        return inst.aiohttp_face.exchange(req)

    def make(original: Any) -> Any:
        def __init__(self: Any, *args: Any, middlewares: Any = (), **kwargs: Any) -> None:
            mws = tuple(middlewares or ())
            if layer_migrate_middleware not in mws:
                mws = (*mws, layer_migrate_middleware)
            original(self, *args, middlewares=mws, **kwargs)

        __init__.__wrapped__ = original  # type: ignore[attr-defined]
        __init__.__doc__ = original.__doc__
        return __init__

    return [Patch.apply(module.ClientSession, "__init__", make)]
