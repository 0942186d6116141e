"""The proxy's upstream client: aiohttp's ClientSession, chosen by measurement.

On a 2-core loopback benchmark (task brief, issue 4) an aiohttp ClientSession pass-through ran at
~5,900 req/s while httpx 0.28 collapsed to ~400 under concurrency, so the proxy hot path uses
aiohttp directly; httpx stays the public face for library users (:mod:`.httpx_transport`).

Only the configured upstream is ever contacted: the URL is built from the configured scheme,
host and port plus the request's (already percent-encoded) path, so neither an absolute-URI
request line nor a hostile ``Host`` header can point the proxy elsewhere.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
from yarl import URL

from ..exchange import Request, Response
from .config import upstream_ssl_context
from .exchange_loop import UpstreamFailure
from .http import REQUEST_DROP, body_bytes, is_json_type, parse_response_body, strip_hop_by_hop

_SKIP_CT = frozenset({"Content-Type"})


class Upstream:
    """A pooled connection to the one configured upstream."""

    def __init__(self, base: str, *, connect_timeout: float = 5.0, total_timeout: float = 30.0,
                 pool_size: int = 256, keepalive_expiry: float = 4.0,
                 ca_file: str | None = None) -> None:
        url = URL(base)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"upstream must be an http(s) URL, not {base!r}")
        self.scheme, self.host, self.port = url.scheme, url.host, url.port
        #: a path prefix of the upstream URL (``http://h/layer`` → ``/layer``)
        self.prefix = url.raw_path.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout)
        self.pool_size = pool_size
        self.keepalive_expiry = keepalive_expiry
        #: PEM bundle to trust for an https upstream (``--upstream-ca``); None = system store.
        self.ca_file = ca_file
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.session is None:
            # True = aiohttp's verifying default context; a private CA gets its own verifying
            # context. Verification is never disabled.
            ssl_ctx: ssl.SSLContext | bool = True
            if self.scheme == "https" and self.ca_file:
                ssl_ctx = upstream_ssl_context(self.ca_file)
            conn = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300,
                                        keepalive_timeout=self.keepalive_expiry, ssl=ssl_ctx)
            self.session = aiohttp.ClientSession(connector=conn, timeout=self.timeout,
                                                 auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def url_for(self, path: str) -> URL:
        """The upstream URL for a request path (path + query, percent-encoded as received)."""
        if not path.startswith("/"):
            path = "/" + path
        raw_path, _, query = path.partition("?")
        return URL.build(scheme=self.scheme, host=self.host, port=self.port,
                         path=self.prefix + raw_path, query_string=query, encoded=True)

    def _prepare(self, req: Request) -> tuple[URL, dict[str, str], bytes, frozenset[str] | None]:
        headers = strip_hop_by_hop(req.headers, REQUEST_DROP)
        data = body_bytes(req.body, req.raw)
        # aiohttp would invent a Content-Type for a body sent without one; don't.
        skip = _SKIP_CT if data and "content-type" not in headers else None
        return self.url_for(req.path), headers, data, skip

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        """Send ``req``; JSON answers are buffered (and parsed when ``parse``), other bodies
        larger than :data:`STREAM_THRESHOLD` come back as a :class:`StreamingResponse`.

        Raises :class:`UpstreamFailure`.
        """
        url, headers, data, skip = self._prepare(req)
        assert self.session is not None, "Upstream.start() was not awaited"
        try:
            resp = await self.session.request(req.method, url, headers=headers, data=data or None,
                                              allow_redirects=False, skip_auto_headers=skip)
        except BaseException as exc:  # noqa: BLE001 - mapped, re-raised as UpstreamFailure
            raise as_failure(exc) from None
        rh = {k.lower(): v for k, v in resp.headers.items()}
        if not is_json_type(rh.get("content-type")) and _large(rh):
            return StreamingResponse(resp.status, rh, stream=resp)
        try:
            raw = await resp.read()
        except BaseException as exc:  # noqa: BLE001
            resp.release()
            raise as_failure(exc) from None
        finally:
            resp.release()
        if not parse:
            return Response(resp.status, rh, None, raw or None)
        body, rest = parse_response_body(rh, raw)
        return Response(resp.status, rh, body, rest)

    async def open(self, req: Request) -> aiohttp.ClientResponse:
        """Send ``req`` and return the open response for streaming (caller releases it)."""
        url, headers, data, skip = self._prepare(req)
        assert self.session is not None, "Upstream.start() was not awaited"
        try:
            return await self.session.request(req.method, url, headers=headers, data=data or None,
                                              allow_redirects=False, skip_auto_headers=skip)
        except BaseException as exc:  # noqa: BLE001
            raise as_failure(exc) from None


#: Non-JSON bodies above this size (or of unknown size) are streamed, not buffered.
STREAM_THRESHOLD = 64 * 1024


def _large(headers: dict[str, str]) -> bool:
    cl = headers.get("content-length")
    if cl is None or not cl.isdigit():
        return "transfer-encoding" in headers or headers.get("content-encoding") is not None
    return int(cl) > STREAM_THRESHOLD


class StreamingResponse(Response):
    """A response whose (non-JSON) body is still on the wire: iterate :meth:`chunks`."""

    def __init__(self, status: int, headers: dict[str, str], *, stream: aiohttp.ClientResponse) -> None:
        super().__init__(status, headers, None, None)
        self.stream = stream

    async def chunks(self, size: int = 1 << 16):  # type: ignore[no-untyped-def]
        try:
            async for chunk in self.stream.content.iter_chunked(size):
                yield chunk
        finally:
            self.stream.release()

    def release(self) -> None:
        self.stream.release()


def as_failure(exc: BaseException) -> BaseException:
    """Map aiohttp/asyncio errors to :class:`UpstreamFailure` kinds (others pass through)."""
    if isinstance(exc, UpstreamFailure):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamFailure("connect_timeout", str(exc))
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamFailure("timeout", "upstream did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # an untrusted or mismatching certificate: not transient, nothing was sent
        return UpstreamFailure("tls", str(exc.certificate_error))
    if isinstance(exc, aiohttp.ClientSSLError):
        return UpstreamFailure("tls", str(exc.os_error) if exc.os_error else type(exc).__name__)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamFailure("connect", str(exc.os_error) if exc.os_error else str(exc))
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
                        aiohttp.ClientPayloadError, aiohttp.ClientResponseError,
                        ConnectionError)):
        return UpstreamFailure("reset", type(exc).__name__)
    if isinstance(exc, aiohttp.ClientError):
        return UpstreamFailure("reset", type(exc).__name__)
    return exc


def headers_list(headers: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """ASGI header list from a dict."""
    return [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]
