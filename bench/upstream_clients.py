"""Candidate upstream clients for the proxy's hot path, benchmarked *through the real proxy*.

``bench/proxy.py`` starts ``ProxyApp`` with one of these in place of ``fastclient`` (the app
calls ``send(req, parse=)`` on whatever sits in ``app.fast``), so each figure is the whole
translating proxy with only the upstream hop swapped. Every adapter is tuned the same way: a
256-connection keep-alive pool to the one host, no cookie jar, no redirects, no library-side
decompression (the proxy's body policy decodes within its bounds). Bench-only: none of these
is a dependency of the package.
"""

from __future__ import annotations

from typing import Any

from layer_migrate.exchange import Request, Response
from layer_migrate.proxy.bodypolicy import decode, fold
from layer_migrate.proxy.exchange_loop import UpstreamFailure
from layer_migrate.proxy.http import REQUEST_DROP, body_bytes, parse_response_body, strip_hop_by_hop


def _answer(status: int, pairs: Any, raw: bytes, parse: bool) -> Response:
    headers, raw = decode(fold(pairs), raw)
    if not parse:
        return Response(status, headers, None, raw or None)
    body, rest = parse_response_body(headers, raw)
    return Response(status, headers, body, rest)


class _Base:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def _parts(self, req: Request) -> tuple[str, dict[str, str], bytes]:
        return (self.base + req.path, strip_hop_by_hop(req.headers, REQUEST_DROP),
                body_bytes(req.body, req.raw))


class HttpcoreUpstream(_Base):
    """httpcore's asyncio connection pool (what httpx uses underneath)."""

    async def start(self) -> None:
        import httpcore

        self.pool = httpcore.AsyncConnectionPool(max_connections=256, max_keepalive_connections=256)

    async def close(self) -> None:
        await self.pool.aclose()

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        url, headers, data = self._parts(req)
        try:
            r = await self.pool.request(req.method, url, headers=list(headers.items()), content=data or None)
        except Exception as exc:  # noqa: BLE001 - bench adapter
            raise UpstreamFailure("reset", type(exc).__name__) from None
        return _answer(r.status, ((k.decode(), v.decode()) for k, v in r.headers), r.content, parse)


class RnetUpstream(_Base):
    """rnet (Rust: hyper/wreq via PyO3)."""

    async def start(self) -> None:
        import rnet

        self.client = rnet.Client(allow_redirects=False, cookie_store=False, gzip=False, brotli=False,
                                  deflate=False, zstd=False, pool_max_idle_per_host=256)

    async def close(self) -> None:
        pass

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        import rnet

        url, headers, data = self._parts(req)
        try:
            r = await self.client.request(getattr(rnet.Method, req.method), url, headers=headers,
                                          body=data or None)
            raw = await r.bytes()
        except Exception as exc:  # noqa: BLE001
            raise UpstreamFailure("reset", type(exc).__name__) from None
        pairs = [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                 for k, v in r.headers.items()]
        return _answer(r.status.as_int() if hasattr(r.status, "as_int") else int(str(r.status)[:3]),
                       pairs, raw, parse)


class PyreqwestUpstream(_Base):
    """pyreqwest (Rust: reqwest/hyper via PyO3)."""

    async def start(self) -> None:
        from pyreqwest.client import ClientBuilder

        self.client = (ClientBuilder().max_connections(256).pool_max_idle_per_host(256)
                       .follow_redirects(False).gzip(False).brotli(False).deflate(False).zstd(False)
                       .http1_only().build())

    async def close(self) -> None:
        await self.client.close()

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        url, headers, data = self._parts(req)
        try:
            rb = self.client.request(req.method, url).headers(headers)
            if data:
                rb = rb.body_bytes(data)
            r = await rb.build().send()
            raw = bytes(await r.bytes())
            status = int(r.status)
            pairs = list(r.headers.items())
        except Exception as exc:  # noqa: BLE001
            raise UpstreamFailure("reset", type(exc).__name__) from None
        return _answer(status, pairs, raw, parse)


class CurlCffiUpstream(_Base):
    """curl_cffi's AsyncSession (libcurl multi handle on the asyncio loop)."""

    async def start(self) -> None:
        from curl_cffi.requests import AsyncSession

        self.session = AsyncSession(max_clients=256, allow_redirects=False)

    async def close(self) -> None:
        await self.session.close()

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        url, headers, data = self._parts(req)
        try:
            r = await self.session.request(req.method, url, headers=headers, data=data or None,
                                           accept_encoding=None)
        except Exception as exc:  # noqa: BLE001
            raise UpstreamFailure("reset", type(exc).__name__) from None
        return _answer(r.status_code, list(r.headers.multi_items()), r.content, parse)


CLIENTS: dict[str, type] = {"httpcore": HttpcoreUpstream, "rnet": RnetUpstream,
                            "pyreqwest": PyreqwestUpstream, "curl_cffi": CurlCffiUpstream}


def serve(name: str, port: int, upstream: str, server: str = "uvicorn") -> None:
    """Run the translating proxy on ``port`` with the ``name`` client on its hot path."""
    import uvicorn

    from layer_migrate.proxy.app import ProxyApp
    from layer_migrate.proxy.config import ProxyConfig
    from layer_migrate.proxy.serving import server_kwargs

    app = ProxyApp(ProxyConfig(upstream=upstream, port=port, access_log=None))
    if name != "fast":
        app.fast = CLIENTS[name](upstream)  # type: ignore[assignment]
    kw: dict[str, Any] = {"loop": "uvloop"} if _has("uvloop") else {}
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="on", **server_kwargs(), **kw)


def _has(mod: str) -> bool:
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def available() -> list[str]:
    """Candidates importable here (the others are reported as not installed)."""
    mods = {"httpcore": "httpcore", "rnet": "rnet", "pyreqwest": "pyreqwest", "curl_cffi": "curl_cffi"}
    return [n for n, m in mods.items() if _has(m)]
