"""Serve the proxy: the hardened uvicorn protocol, and a background-thread runner.

``with running(ProxyConfig(upstream=url)) as proxy: proxy.url`` — a real uvicorn server on a
free 127.0.0.1 port, stopped gracefully (in-flight requests finish) on exit.

:class:`GuardedHttpToolsProtocol` is uvicorn's httptools protocol plus the limits uvicorn does
not have (issue 11 findings 5 and 8): request line and header block sizes (→ 431 Layer error,
before the headers are buffered in full), a deadline from connect or message start to complete
headers and one for the body (slowloris: idle, slow headers, slow body → closed; a slow body
gets a 408 Layer error first), and chunked trailers that never turn into request headers.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import ProxyApp
from .config import ProxyConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config_of(app: Any) -> ProxyConfig:
    """The ProxyConfig behind uvicorn's (possibly middleware-wrapped) loaded app."""
    for _ in range(8):
        cfg = getattr(app, "config", None)
        if isinstance(cfg, ProxyConfig):
            return cfg
        app = getattr(app, "app", None)
        if app is None:
            break
    return ProxyConfig()


def _layer_error(status: int, eid: str, code: int, message: str, data: dict[str, Any]) -> bytes:
    body = orjson.dumps({"id": eid, "code": code, "message": message,
                         "url": "https://developer.layer.com/docs/platform", "data": data})
    reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json; charset=UTF-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % (status, reason, len(body)) + body)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with size limits and slowloris deadlines (see module doc)."""

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        cfg = _config_of(self.app)
        self._max_line = cfg.max_request_line
        self._max_headers = cfg.max_header_bytes
        self._header_timeout = cfg.header_timeout
        self._body_timeout = cfg.body_timeout
        self._line = 0
        self._phase = "idle"  # idle → headers → body → app
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._pending = 0  # bytes received since the last message ended (≥ its header block)
        self._refusal: bytes | None = None

    # -- deadlines -------------------------------------------------------------------------------
    def _arm(self, phase: str, seconds: float) -> None:
        self._phase = phase
        self._deadline = self.loop.time() + seconds
        if self._timer is not None and self._timer_at > self._deadline:
            self._timer.cancel()  # a shorter deadline than the one the timer waits for
            self._timer = None
        if self._timer is None:
            self._timer_at = self._deadline
            self._timer = self.loop.call_at(self._deadline, self._check)

    def _disarm(self) -> None:
        self._phase = "app"
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # One timer per connection, not per request: it is re-armed only when it fires and the
    # connection is still waiting for headers or a body; a busy keep-alive connection creates
    # one every ``header_timeout`` seconds at most (the hot path pays two attribute writes).

    def _check(self) -> None:
        self._timer = None
        if self._phase == "app":
            return  # between requests uvicorn's keep-alive timeout applies
        if self.transport is None or self.transport.is_closing():
            return
        left = self._deadline - self.loop.time()
        if left > 0:  # the phase moved on (headers → body): wait for its own deadline
            self._timer_at = self._deadline
            self._timer = self.loop.call_at(self._deadline, self._check)
            return
        if self._phase == "body" and (self.cycle is None or not self.cycle.response_started):
            self.transport.write(_layer_error(408, "request_timeout", 8,
                                              f"Request body not received within {self._body_timeout} s",
                                              {"timeout_seconds": self._body_timeout}))
        self.transport.close()  # idle or slow headers: nothing to answer

    # -- uvicorn / httptools hooks ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("idle", self._header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Bytes since the current message began: an upper bound of its header block.
        self._pending += len(data)
        super().data_received(data)
        if self._phase in ("idle", "headers") and self.transport is not None \
                and not self.transport.is_closing():
            # httptools buffers a header value until it ends, so a single endless header line
            # is caught here, by the bytes received while the header block is incomplete.
            if self._pending > self._max_line + self._max_headers:
                try:
                    self._refuse("header fields", self._max_headers)
                except ValueError:
                    self.send_400_response("")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._line = 0
        self._arm("headers", self._header_timeout)

    def on_url(self, url: bytes) -> None:
        self._line += len(url)
        if self._line > self._max_line:
            self._refuse("request line", self._max_line)
        super().on_url(url)

    def on_headers_complete(self) -> None:
        if self._pending > self._max_headers and \
                sum(len(k) + len(v) + 4 for k, v in self.headers) > self._max_headers:
            self._refuse("header fields", self._max_headers)  # exact count only when it may matter
        self._pending = 0
        self._arm("body", self._body_timeout)
        super().on_headers_complete()
        # uvicorn appends every later on_header to this list, which is the scope's: chunked
        # trailers would become request headers (and be forwarded). Give them a dead end.
        self.headers = []

    def on_message_complete(self) -> None:
        self._phase = "app"  # the timer, if any, expires quietly
        self._pending = 0
        super().on_message_complete()

    def _refuse(self, what: str, limit: int) -> None:
        self._refusal = _layer_error(431, "invalid_request", 10,
                                     f"Request {what} larger than {limit} bytes",
                                     {"max_bytes": limit, "limit": what.replace(" ", "_")})
        raise ValueError(what)  # httptools turns it into HttpParserCallbackError

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
            return
        self._disarm()
        self.transport.write(self._refusal)
        self.transport.close()


def server_kwargs() -> dict[str, Any]:
    """uvicorn settings shared by the CLI and :func:`running`: the guarded protocol."""
    return {"http": GuardedHttpToolsProtocol}


@dataclass
class RunningProxy:
    url: str
    app: ProxyApp
    server: uvicorn.Server
    config: ProxyConfig


@contextmanager
def running(config: ProxyConfig) -> Iterator[RunningProxy]:
    """Serve ``config`` (its host/port; port 0 = pick a free one) until the block ends."""
    if config.port == 0 or config.port == 8080:
        config = config.replace(port=free_port())
    app = ProxyApp(config)
    server = uvicorn.Server(uvicorn.Config(
        app, host=config.host, port=config.port, log_level="warning", lifespan="on",
        access_log=False, timeout_graceful_shutdown=int(config.graceful_timeout), **server_kwargs()))
    thread = threading.Thread(target=server.run, name="layer-migrate-proxy", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("proxy did not start")
        time.sleep(0.01)
    try:
        yield RunningProxy(f"http://{config.host}:{config.port}", app, server, config)
    finally:
        server.should_exit = True
        thread.join(30)
