"""Connection-level limits of the emulator's HTTP server (issue 11): request head size,
request-line length, and the slowloris timeouts uvicorn does not apply by itself.

uvicorn's httptools protocol accepts request heads of any size (a 100 MiB header took 44 s and
211 MB here) and only arms its keep-alive timer *after* a response, so a connection that never
finishes its head — or never sends a byte — stays open forever. :func:`guarded_protocol` builds
a subclass that:

* answers ``431`` with a Layer error object and closes when the request line exceeds
  ``max_request_line`` bytes or the head (request line + headers) exceeds ``max_header_bytes``;
* closes a connection whose head is not complete ``header_timeout`` seconds after it opened or
  after its first byte (idle and slow-header connections), and one whose body has not arrived
  ``body_timeout`` seconds after its head (slow body). Idle keep-alive connections between
  requests are closed by uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..errors import LayerError

DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_REQUEST_LINE = 8 * 1024
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0


def _refusal(message: str, data: dict[str, Any]) -> bytes:
    body = orjson.dumps(LayerError("invalid_request", message, status=431, data=data).to_json())
    return (b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json; charset=UTF-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head limits and head/body deadlines (class attributes
    are set by :func:`guarded_protocol`)."""

    max_header_bytes = DEFAULT_MAX_HEADER_BYTES
    max_request_line = DEFAULT_MAX_REQUEST_LINE
    header_timeout = DEFAULT_HEADER_TIMEOUT
    body_timeout = DEFAULT_BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_len = 0
        self._line_len = 0
        self._line_done = False
        self._deadline: asyncio.TimerHandle | None = None

    # -- deadlines -----------------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete and not self._in_head:
            # a slow body: tell the app the client went away, then drop the connection
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- head limits ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            if self._deadline is None:
                self._arm(self.header_timeout)
            if not self._line_done:
                end = data.find(b"\n")
                self._line_len += len(data) if end < 0 else end
                self._line_done = end >= 0
                if self._line_len > self.max_request_line:
                    self._refuse(f"The request line exceeds {self.max_request_line} bytes.",
                                 {"limit": "request_line", "max_bytes": self.max_request_line})
                    return
            end = data.find(b"\r\n\r\n")
            self._head_len += len(data) if end < 0 else end + 4
            if self._head_len > self.max_header_bytes:
                self._refuse(f"The request head exceeds {self.max_header_bytes} bytes.",
                             {"limit": "headers", "max_bytes": self.max_header_bytes})
                return
        super().data_received(data)

    def _refuse(self, message: str, data: dict[str, Any]) -> None:
        self._disarm()
        self._in_head = False
        if not self.transport.is_closing():
            self.transport.write(_refusal(message, data))
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head, self._head_len, self._line_len, self._line_done = True, 0, 0, False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn armed its keep-alive timer; our head deadline starts with the next byte


def guarded_protocol(*, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
                     max_request_line: int = DEFAULT_MAX_REQUEST_LINE,
                     header_timeout: float = DEFAULT_HEADER_TIMEOUT,
                     body_timeout: float = DEFAULT_BODY_TIMEOUT) -> type[GuardedHttpToolsProtocol]:
    """A protocol class for ``uvicorn.Config(http=…)`` with these limits."""
    return type("EmulatorHttpProtocol", (GuardedHttpToolsProtocol,), {
        "max_header_bytes": max_header_bytes, "max_request_line": max_request_line,
        "header_timeout": header_timeout, "body_timeout": body_timeout})
