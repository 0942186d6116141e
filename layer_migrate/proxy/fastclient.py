"""A lean HTTP/1.1 keep-alive client for the one upstream, on asyncio protocols + httptools.

Why not only aiohttp: measured on the 2-core bench (``bench/proxy.py``), aiohttp's
ClientSession costs about as much CPU per request as everything else in the proxy together;
the translating proxy can only reach ≥ 85 % of a bare aiohttp pass-through (the issue-4 target)
if its own upstream hop is cheaper than aiohttp's. The proxy talks to exactly one plain-HTTP
host with a fixed request shape, so a small pool of persistent connections, one pre-formatted
request write and the same llhttp parser uvicorn uses are enough. Anything outside that shape —
``https://`` upstreams, ``HEAD`` — goes through :class:`.upstream.Upstream` (aiohttp).

Semantics kept from :class:`.upstream.Upstream`: the URL is always the configured host plus the
request path (no redirects followed, ``Host`` set by us); failures map to
:class:`~.migrator.UpstreamFailure` (``connect`` only when nothing was written); non-JSON
bodies larger than the streaming threshold are streamed with flow control.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httptools
from yarl import URL

from ..exchange import Request, Response, response_of
from .bodypolicy import (
    COOKIE_SEP,
    DEFAULT_LIMITS,
    BodyLimits,
    check_length,
    check_status,
    decode,
    streamable,
)
from .http import REQUEST_DROP, VERBATIM_DROP, body_bytes, parse_response_body, strip_hop_by_hop
from .migrator import UpstreamFailure

_HIGH_WATER = 1 << 20


class _Desync(Exception):
    """Raised from a parser callback: a second message, or bytes beyond the framing."""


class _Conn(asyncio.Protocol):
    """One keep-alive connection; handles one exchange at a time.

    Framing is trusted for exactly one final answer per request: interim (1xx) answers are
    skipped, and any byte beyond the final message — an extra response, trailing garbage, a
    body on a 204/304, more bytes than Content-Length, anything arriving while the connection
    sits idle in the pool — closes the connection instead of being read as the next answer
    (issue 11 findings 1–2: that is how one client received another's data).
    """

    def __init__(self, client: FastUpstream) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.waiter: asyncio.Future[Any] | None = None
        self.slot = False
        #: keep the header fields as received (case, order, repeats) — report-only mode
        self.verbatim: list[tuple[bytes, bytes]] | None = None
        self._reset_state()

    def _reset_state(self) -> None:
        # A fresh parser per exchange: no state can survive from the previous message.
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.stream: _Stream | None = None
        self.done = False
        self.interim = False
        self.keep_alive = False
        self.idle_since = 0.0
        self.verbatim = None

    # -- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.done or self.waiter is None:
            self.close()  # beyond the framing, or unsolicited on an idle connection
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # pragma: no cover - never requested
            self._fail(UpstreamFailure("reset", "unexpected upgrade"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, UpstreamFailure):
                self._fail(cause)
            elif self.done or isinstance(cause, _Desync):
                self.close()  # the answer is complete; what followed it is not trusted
            else:
                self._fail(UpstreamFailure("reset", f"bad HTTP from upstream: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.client._forget(self)
        if not self.done and exc is None and self.status and "content-length" not in self.headers \
                and "chunked" not in self.headers.get("transfer-encoding", "").lower():
            # HTTP/1.0-style body delimited by the close: the close completes the message.
            self.on_message_complete()
            self.keep_alive = False
            return
        if not self.done:
            self._fail(UpstreamFailure("reset", "upstream closed the connection"))

    # -- httptools callbacks ---------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self.done:
            raise _Desync()
        self.headers = {}
        if self.verbatim is not None:
            self.verbatim = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.verbatim is not None:
            self.verbatim.append((name, value))
        key = name.decode("latin-1").lower()
        val = value.decode("latin-1")
        h = self.headers
        if key in h:
            h[key] = f"{h[key]}{COOKIE_SEP if key == 'set-cookie' else ', '}{val}"
        else:
            h[key] = val

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            if status == 101:
                raise UpstreamFailure("reset", "unexpected protocol switch")
            self.interim = True  # 100/102/103: consumed, never an answer
            return
        self.status = status
        h = self.headers
        cl = h.get("content-length")
        if cl is not None and cl.isdigit() and not streamable("GET", status, h):
            check_length(int(cl), self.client.limits)
        if self.waiter is not None and streamable("GET", status, h):
            self.stream = _Stream(self)
            if not self.waiter.done():
                self.waiter.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.stream is not None:
            self.stream.feed(body)
        else:
            self.size += len(body)
            check_length(self.size, self.client.limits)
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            self.headers = {}
            return
        self.done = True
        # Read it now: llhttp resets its state once the message is complete.
        self.keep_alive = self.parser.should_keep_alive()
        if self.stream is not None:
            self.stream.finish()
        elif self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    # -- helpers ---------------------------------------------------------------------------------
    def _fail(self, failure: UpstreamFailure) -> None:
        if self.stream is not None:
            self.stream.fail(failure)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(failure)
        self.close()

    def close(self) -> None:
        self.closed = True
        self.client._forget(self)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def reusable(self) -> bool:
        return (not self.closed and self.done and self.transport is not None
                and not self.transport.is_closing() and self.keep_alive)


class _Stream:
    """Body chunks of a streamed response, with read-side back-pressure on the connection."""

    def __init__(self, conn: _Conn) -> None:
        self.conn = conn
        self.queue: deque[bytes] = deque()
        self.size = 0
        self.event = asyncio.Event()
        self.finished = False
        self.error: UpstreamFailure | None = None
        self.paused = False

    def feed(self, chunk: bytes) -> None:
        self.queue.append(chunk)
        self.size += len(chunk)
        self.event.set()
        if self.size > _HIGH_WATER and not self.paused and self.conn.transport is not None:
            self.conn.transport.pause_reading()
            self.paused = True

    def finish(self) -> None:
        self.finished = True
        self.event.set()

    def fail(self, failure: UpstreamFailure) -> None:
        self.error = failure
        self.event.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while True:
                while self.queue:
                    chunk = self.queue.popleft()
                    self.size -= len(chunk)
                    if self.paused and self.size < _HIGH_WATER // 2 and self.conn.transport is not None:
                        self.conn.transport.resume_reading()
                        self.paused = False
                    yield chunk
                if self.error is not None:
                    raise self.error
                if self.finished:
                    return
                self.event.clear()
                await self.event.wait()
        finally:
            self.conn.client._release(self.conn)


class FastStreamingResponse(Response):
    """A response whose non-JSON body is still arriving: iterate :meth:`chunks`.

    The body is relayed as received (``Content-Encoding`` kept, see :mod:`.bodypolicy`);
    :meth:`release` is idempotent and frees the pool slot whoever calls it first.
    """

    def __init__(self, status: int, headers: dict[str, str], stream: _Stream) -> None:
        super().__init__(status, headers, None, None)
        self.stream = stream

    def chunks(self) -> AsyncIterator[bytes]:
        return self.stream.chunks()

    def release(self) -> None:
        conn = self.stream.conn
        if not conn.done:
            conn.close()  # an unfinished body: the connection cannot carry another exchange
        conn.client._release(conn)


def _expire(conn: _Conn) -> None:
    conn._fail(UpstreamFailure("timeout", "upstream did not answer in time"))


class FastUpstream:
    """Pooled keep-alive connections to one ``http://host:port`` upstream."""

    def __init__(self, base: str, *, connect_timeout: float = 5.0, total_timeout: float = 30.0,
                 pool_size: int = 256, keepalive_expiry: float = 4.0, pool_wait: float = 5.0,
                 limits: BodyLimits = DEFAULT_LIMITS) -> None:
        url = URL(base)
        self.keepalive_expiry = keepalive_expiry
        if url.scheme != "http" or not url.host:
            raise ValueError(f"the fast client speaks plain http only, not {base!r}")
        self.host = url.host
        self.port = url.port or 80
        self.prefix = url.raw_path.rstrip("/")
        netloc = self.host if self.port == 80 else f"{self.host}:{self.port}"
        self.host_header = netloc.encode("ascii")
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.pool_size = pool_size
        #: seconds a request may wait for a free pool slot before a 503 (``pool``)
        self.pool_wait = pool_wait
        self.limits = limits
        self.idle: list[_Conn] = []
        self._slots: asyncio.Semaphore | None = None

    async def start(self) -> None:
        self._slots = asyncio.Semaphore(self.pool_size)

    async def close(self) -> None:
        for c in list(self.idle):
            c.close()
        self.idle.clear()

    def _forget(self, conn: _Conn) -> None:
        try:
            self.idle.remove(conn)
        except ValueError:
            pass

    def _release(self, conn: _Conn) -> None:
        if not conn.slot:
            return  # released already (stream end and an explicit release both call this)
        conn.slot = False
        conn.waiter = None
        if conn.reusable():
            conn._reset_state()
            conn.idle_since = asyncio.get_running_loop().time()
            self.idle.append(conn)
        else:
            conn.close()
        if self._slots is not None:
            self._slots.release()

    async def _acquire(self) -> None:
        slots = self._slots
        assert slots is not None, "FastUpstream.start() was not awaited"
        if not slots.locked():
            await slots.acquire()  # a free slot: no timer needed
            return
        try:
            await asyncio.wait_for(slots.acquire(), self.pool_wait)
        except asyncio.TimeoutError:
            raise UpstreamFailure("pool", f"no upstream connection free within {self.pool_wait} s") from None

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self.idle:
            conn = self.idle.pop()
            if now - conn.idle_since > self.keepalive_expiry:
                # Servers close idle connections (uvicorn after 5 s); writing into one that is
                # closing turns a safe "connect" failure into an ambiguous "reset".
                conn.close()
                continue
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: _Conn(self), self.host, self.port), self.connect_timeout)
        except asyncio.TimeoutError:
            raise UpstreamFailure("connect_timeout", f"connecting to {self.host}:{self.port}") from None
        except OSError as exc:
            raise UpstreamFailure("connect", str(exc)) from None
        return conn

    def _encode(self, req: Request) -> bytes:
        path = req.path if req.path.startswith("/") else "/" + req.path
        headers = strip_hop_by_hop(req.headers, REQUEST_DROP)
        data = body_bytes(req.body, req.raw)
        out = [f"{req.method} {self.prefix}{path} HTTP/1.1\r\n".encode("latin-1"),
               b"host: ", self.host_header, b"\r\n"]
        for k, v in headers.items():
            if "\r" in v or "\n" in v or "\r" in k or "\n" in k:
                raise UpstreamFailure("connect", f"refusing header {k!r} with a line break")
            out.append(f"{k}: {v}\r\n".encode("latin-1"))
        if data or req.method in ("POST", "PUT", "PATCH"):
            out.append(b"content-length: %d\r\n" % len(data))
        out.append(b"\r\n")
        out.append(data)
        return b"".join(out)

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        """Send ``req``; buffered Response, or a streaming one for large non-JSON bodies.

        Buffered bodies are decoded within the limits; ``parse`` also parses a JSON body for
        translation (pass-through answers stay bytes).
        """
        return await self.exchange(self._encode(req), parse=parse)

    async def send_verbatim(self, method: str, target: str, fields: list[tuple[bytes, bytes]],
                            body: bytes) -> Response:
        """Report-only mode: forward the request's header fields in order, repeats kept (only
        framing and ``Host`` are ours), and answer with the upstream's fields and bytes as
        received — nothing decoded (``Response.verbatim``)."""
        out = [f"{method} {self.prefix}{target} HTTP/1.1\r\n".encode("latin-1"),
               b"host: ", self.host_header, b"\r\n"]
        for k, v in fields:
            if k.lower() in VERBATIM_DROP:
                continue
            if b"\r" in v or b"\n" in v or b"\r" in k or b"\n" in k:
                raise UpstreamFailure("connect", f"refusing header {k!r} with a line break")
            out += (k, b": ", v, b"\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            out.append(b"content-length: %d\r\n" % len(body))
        out += (b"\r\n", body)
        return await self.exchange(b"".join(out), parse=False, verbatim=True)

    async def exchange(self, wire: bytes, *, parse: bool = True, verbatim: bool = False) -> Response:
        """One request already encoded as ``wire`` bytes → its final answer."""
        await self._acquire()
        try:
            conn = await self._connect()
        except BaseException:
            assert self._slots is not None
            self._slots.release()
            raise
        conn.slot = True
        if verbatim:
            conn.verbatim = []
        loop = asyncio.get_running_loop()
        conn.waiter = loop.create_future()
        handed_off = False
        try:
            assert conn.transport is not None
            try:
                conn.transport.write(wire)
            except (RuntimeError, OSError) as exc:
                # The pooled connection was closed by the upstream (a restart) after the pool
                # handed it out; the transport refused the bytes, so nothing was sent and the
                # attempt may be repeated like a refused connect.
                raise UpstreamFailure("connect", f"pooled connection closed: {exc}") from None
            # A timer handle, not asyncio.wait_for: wait_for costs a Task per request.
            timer = loop.call_later(self.total_timeout, _expire, conn)
            try:
                await conn.waiter
            finally:
                timer.cancel()
            check_status(conn.status)
            fields = conn.verbatim
            if conn.stream is not None:
                handed_off = True  # released when the stream is consumed or released
                streamed = FastStreamingResponse(conn.status, conn.headers, conn.stream)
                streamed.verbatim = fields  # type: ignore[attr-defined]
                return streamed
            raw = b"".join(conn.chunks)
            headers = conn.headers
            status = conn.status
        except BaseException:
            conn.close()
            raise
        finally:
            if not handed_off:
                self._release(conn)
        if fields is not None:  # report-only: byte for byte, nothing decoded
            out = response_of(status, headers, None, raw or None)
            out.verbatim = fields  # type: ignore[attr-defined]
            return out
        headers, raw = decode(headers, raw, self.limits)
        if not parse:
            return response_of(status, headers, None, raw or None)
        body, rest = parse_response_body(headers, raw)
        return response_of(status, headers, body, rest)  # names lower-cased by the parser
