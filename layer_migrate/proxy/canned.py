"""A fast canned upstream: answers every request with one fixed 3.0-shaped JSON message.

Used by ``bench/proxy.py`` (the "upstream directly" baseline must cost as little as possible,
so this is a bare asyncio protocol, not a framework) and by the proxy tests for faults the
emulator cannot produce: slow answers, connection resets, 5xx bursts. Keep-alive HTTP/1.1 only.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import orjson

APP = "00000000-0000-4000-8000-00000000a991"


def canned_message(size: int = 1400) -> bytes:
    """A 3.0 Message (BasicIdentity sender, identity-keyed recipient_status, uuid part ids),
    padded to about ``size`` bytes with a longer text part."""
    msg = {
        "id": "layer:///messages/940de862-3c96-11e4-baad-164230d1df67",
        "url": f"https://api.layer.com/apps/{APP}/messages/940de862-3c96-11e4-baad-164230d1df67",
        "conversation": {"id": "layer:///conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f",
                         "url": f"https://api.layer.com/apps/{APP}/conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f"},
        "parts": [{"id": "layer:///messages/940de862-3c96-11e4-baad-164230d1df67/parts/0f4a8bd8-2c4f-4a8c-9a3e-0d5fd1d0a111",
                   "mime_type": "text/plain", "body": "", "updated_at": "2026-01-01T00:00:00.000Z"}],
        "sent_at": "2026-01-01T00:00:00.000Z",
        "sender": {"id": "layer:///identities/alice", "url": f"https://api.layer.com/apps/{APP}/identities/alice",
                   "user_id": "alice", "display_name": "Alice", "avatar_url": None},
        "recipient_status": {"layer:///identities/alice": "read", "layer:///identities/bob": "sent",
                             "layer:///identities/carol": "delivered"},
        "position": 120709792, "updated_at": "2026-01-01T00:00:00.000Z",
        "receipts_url": f"https://api.layer.com/apps/{APP}/messages/940de862-3c96-11e4-baad-164230d1df67/receipts",
    }
    base = len(orjson.dumps(msg))
    msg["parts"][0]["body"] = "x" * max(0, size - base)
    return orjson.dumps(msg)


@dataclass
class CannedBehaviour:
    """What the canned server does; mutable while it runs (tests flip faults on and off)."""

    body: bytes = field(default_factory=canned_message)
    status: int = 200
    delay: float = 0.0
    #: close the connection without answering on every Nth request (0 = never)
    reset_every: int = 0
    #: answer 503 on every Nth request (0 = never)
    fail_every: int = 0
    #: gzip the body (``content-encoding: gzip``)
    gzip: bool = False
    #: content type of the answer
    content_type: bytes = b"application/json; charset=UTF-8"
    #: answer without content-length and close the connection (an HTTP/1.0-style body)
    close_delimited: bool = False
    requests: int = 0
    connections: int = 0
    last_request: bytes = b""


class _Proto(asyncio.Protocol):
    def __init__(self, behaviour: CannedBehaviour) -> None:
        self.b = behaviour
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.b.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip() or 0)
            if len(self.buf) < end + 4 + length:
                return
            self.b.last_request = self.buf[: end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            self._answer()

    def _answer(self) -> None:
        b = self.b
        b.requests += 1
        n = b.requests
        if b.reset_every and n % b.reset_every == 0:
            assert self.transport is not None
            self.transport.abort()
            return
        status, body = b.status, b.body
        if b.fail_every and n % b.fail_every == 0:
            status, body = 503, b'{"id":"service_unavailable","code":1,"message":"busy","url":"x"}'
        reason = {200: b"OK", 201: b"Created", 503: b"Service Unavailable"}.get(status, b"X")
        extra = b""
        if b.gzip:
            import gzip

            body = gzip.compress(body)
            extra = b"content-encoding: gzip\r\n"
        if b.close_delimited:
            out = (b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\nconnection: close\r\n%s\r\n"
                   % (status, reason, b.content_type, extra)) + body
            self._write(out)
            assert self.transport is not None
            self.transport.close()
            return
        out = (b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\n%s"
               b"content-length: %d\r\n\r\n" % (status, reason, b.content_type, extra, len(body))) + body
        if b.delay:
            asyncio.get_running_loop().call_later(b.delay, self._write, out)
        else:
            self._write(out)

    def _write(self, out: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(out)


async def serve(behaviour: CannedBehaviour, host: str = "127.0.0.1", port: int = 0) -> asyncio.base_events.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Proto(behaviour), host, port, backlog=1024)


@contextmanager
def running(behaviour: CannedBehaviour | None = None, port: int | None = None
            ) -> Iterator[tuple[str, CannedBehaviour]]:
    """Run a canned upstream in a background thread; yields (url, behaviour).

    ``port``: a fixed one (a test stops the upstream and starts it again there); default: free.
    """
    b = behaviour or CannedBehaviour()
    if port is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, asyncio.base_events.Server] = {}

    def main() -> None:
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(serve(b, port=port))
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=main, daemon=True)
    t.start()
    if not ready.wait(10):
        raise RuntimeError(f"canned upstream did not start on port {port}")
    try:
        yield f"http://127.0.0.1:{port}", b
    finally:
        def stop() -> None:
            holder["server"].close()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        t.join(5)


def main() -> None:  # pragma: no cover - used by bench/proxy.py in a subprocess
    import argparse

    ap = argparse.ArgumentParser(description="canned Layer upstream")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--size", type=int, default=1400)
    args = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def run() -> None:
        server = await serve(CannedBehaviour(body=canned_message(args.size)), port=args.port)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":  # pragma: no cover
    main()
