"""A hostile upstream: an asyncio server on 127.0.0.1 that answers with scripted raw bytes.

Every upstream client of the project (the proxy's ``fastclient`` and aiohttp paths, the httpx
transport, the requests adapter) runs the same adversarial matrix against it
(``test_proxy_hostile_matrix.py``). A request picks its script with the ``x-hostile-case``
header and carries an ``x-hostile-tag`` that the script writes into every body it sends, so a
test can prove that no client ever receives bytes meant for another one: a "poison" answer
(extra response, trailing bytes, unsolicited bytes on an idle connection) carries the tag
``LEAK`` and must never reach anybody.

A script is a function ``(request) -> list of steps``; a step is ``bytes`` (written as is),
``("sleep", seconds)``, ``("close",)`` or ``("later", seconds, bytes)`` (written after the
answer, while the connection sits idle in the client's pool).
"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

Step = bytes | tuple[Any, ...]
Script = Callable[["HostileRequest"], list[Step]]

JSON = b"application/json; charset=UTF-8"


@dataclass
class HostileRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def tag(self) -> str:
        return self.header("x-hostile-tag", "untagged")


def tagged_json(tag: str, **extra: Any) -> bytes:
    return orjson.dumps({"tag": tag, **extra})


def response(status: int, body: bytes = b"", *, reason: bytes = b"X", ctype: bytes = JSON,
             headers: list[tuple[bytes, bytes]] | None = None, length: int | None = None) -> bytes:
    """One HTTP/1.1 response with a Content-Length (``length`` may lie on purpose)."""
    head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
    if ctype:
        head.append(b"content-type: " + ctype + b"\r\n")
    for k, v in headers or []:
        head.append(k + b": " + v + b"\r\n")
    head.append(b"content-length: %d\r\n\r\n" % (len(body) if length is None else length))
    return b"".join(head) + body


def ok(req: HostileRequest, **extra: Any) -> bytes:
    return response(200, tagged_json(req.tag, **extra))


def leak() -> bytes:
    return response(200, tagged_json("LEAK"))


# ---- the scripts ---------------------------------------------------------------------------------

def _interim(code: int) -> Script:
    def script(req: HostileRequest) -> list[Step]:
        return [b"HTTP/1.1 %d Interim\r\nlink: </style.css>; rel=preload\r\nx-interim: %s\r\n\r\n"
                % (code, req.tag.encode()), ok(req)]
    return script


def _extra_response(req: HostileRequest) -> list[Step]:
    return [ok(req) + leak()]


def _trailing_bytes(req: HostileRequest) -> list[Step]:
    return [ok(req) + b"GARBAGE-LEAK-LEAK"]


def _no_content_with_body(req: HostileRequest) -> list[Step]:
    return [b"HTTP/1.1 204 No Content\r\nx-tag: %s\r\n\r\n" % req.tag.encode() + leak()]


def _not_modified_with_body(req: HostileRequest) -> list[Step]:
    return [b"HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\n\r\n" + leak()]


def _short_length(req: HostileRequest) -> list[Step]:
    body = tagged_json(req.tag)
    return [response(200, body + tagged_json("LEAK"), length=len(body))]


def _idle_unsolicited(req: HostileRequest) -> list[Step]:
    return [ok(req), ("later", 0.05, leak())]


def _status_999(req: HostileRequest) -> list[Step]:
    return [response(999, tagged_json(req.tag), reason=b"Weird")]


def _multi_cookie(req: HostileRequest) -> list[Step]:
    return [response(200, tagged_json(req.tag), headers=[
        (b"set-cookie", b"a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
        (b"set-cookie", b"b=2; Path=/")])]


def _chunked_trailers(req: HostileRequest) -> list[Step]:
    body = tagged_json(req.tag)
    return [b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n"
            b"trailer: x-checksum\r\n\r\n" + b"%x\r\n" % len(body) + body
            + b"\r\n0\r\nx-checksum: 123\r\n\r\n"]


def _gzip_bomb(req: HostileRequest) -> list[Step]:
    return [response(200, _BOMB, headers=[(b"content-encoding", b"gzip")])]


def _gzip_bomb_binary(req: HostileRequest) -> list[Step]:
    return [response(200, _BOMB, ctype=b"application/octet-stream",
                     headers=[(b"content-encoding", b"gzip")])]


def large_binary(tag: str) -> bytes:
    """~300 KB of incompressible-ish bytes that start with the tag."""
    seed = tag.encode()
    out = bytearray(seed)
    x = 12345
    while len(out) < 300_000:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += x.to_bytes(4, "little")
    return bytes(out)


def _gzip_large_binary(req: HostileRequest) -> list[Step]:
    return [response(200, gzip.compress(large_binary(req.tag)), ctype=b"application/octet-stream",
                     headers=[(b"content-encoding", b"gzip")])]


def _gzip_json(req: HostileRequest) -> list[Step]:
    return [response(200, gzip.compress(tagged_json(req.tag)), headers=[(b"content-encoding", b"gzip")])]


def _trickle_json(req: HostileRequest) -> list[Step]:
    body = tagged_json(req.tag)
    steps: list[Step] = [b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                         % len(body)]
    for b in body:
        steps += [bytes([b]), ("sleep", 0.1)]
    return steps


def _trickle_binary(req: HostileRequest) -> list[Step]:
    """A streamed (large, non-JSON) body that arrives one chunk per 0.4 s, for 40 s."""
    size = 200 * 1024
    steps: list[Step] = [b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
                         b"content-length: %d\r\n\r\n" % size]
    chunk = (req.tag.encode() + b"-") * 64
    sent = 0
    while sent < size:
        part = chunk[: size - sent]
        steps += [part, ("sleep", 0.4)]
        sent += len(part)
    return steps


def _stall_binary(req: HostileRequest) -> list[Step]:
    """Headers and a first chunk of a large body, then silence (the idle case)."""
    return [b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 500000\r\n\r\n"
            + req.tag.encode() * 100, ("sleep", 30)]


def _big_binary(req: HostileRequest) -> list[Step]:
    return [response(200, large_binary(req.tag), ctype=b"application/octet-stream")]


def _plain(req: HostileRequest) -> list[Step]:
    return [ok(req, method=req.method, target=req.target,
                headers=[[k, v] for k, v in req.headers], body=req.body.decode("latin-1"))]


#: 128 MiB of zeros → ~130 KB of gzip (ratio ~1000:1, above the streaming threshold): past
#: every default bound, cheap to send.
_BOMB = gzip.compress(b"\0" * (128 << 20), compresslevel=9)

SCRIPTS: dict[str, Script] = {
    "continue_100": _interim(100),
    "processing_102": _interim(102),
    "early_hints_103": _interim(103),
    "extra_response": _extra_response,
    "trailing_bytes": _trailing_bytes,
    "no_content_with_body": _no_content_with_body,
    "not_modified_with_body": _not_modified_with_body,
    "short_length": _short_length,
    "idle_unsolicited": _idle_unsolicited,
    "status_999": _status_999,
    "multi_cookie": _multi_cookie,
    "chunked_trailers": _chunked_trailers,
    "gzip_bomb": _gzip_bomb,
    "gzip_bomb_binary": _gzip_bomb_binary,
    "gzip_large_binary": _gzip_large_binary,
    "gzip_json": _gzip_json,
    "trickle_json": _trickle_json,
    "trickle_binary": _trickle_binary,
    "stall_binary": _stall_binary,
    "big_binary": _big_binary,
    "plain": _plain,
}


# ---- the server ----------------------------------------------------------------------------------

@dataclass
class Hostile:
    """What the running server saw (for assertions)."""

    url: str
    requests: list[HostileRequest] = field(default_factory=list)
    connections: int = 0
    live: set[Any] = field(default_factory=set, repr=False)


class _Conn(asyncio.Protocol):
    def __init__(self, state: Hostile, scripts: dict[str, Script]) -> None:
        self.state = state
        self.scripts = scripts
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.queue: asyncio.Queue[HostileRequest | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.state.connections += 1
        self.state.live.add(self)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.live.discard(self)
        self.queue.put_nowait(None)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if not sep:
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
            headers = [(k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:])]
            req = HostileRequest(method, target, headers, b"")
            if req.header("transfer-encoding").lower() == "chunked":
                body, consumed = _dechunk(rest)
                if consumed < 0:
                    return
                req.body, self.buf = body, rest[consumed:]
            else:
                n = int(req.header("content-length", "0") or 0)
                if len(rest) < n:
                    return
                req.body, self.buf = rest[:n], rest[n:]
            self.state.requests.append(req)
            self.queue.put_nowait(req)

    async def _serve(self) -> None:
        while True:
            req = await self.queue.get()
            if req is None or self.transport is None or self.transport.is_closing():
                return
            script = self.scripts.get(req.header("x-hostile-case", "plain"), _plain)
            for step in script(req):
                if self.transport.is_closing():
                    return
                if isinstance(step, bytes):
                    self.transport.write(step)
                elif step[0] == "sleep":
                    await asyncio.sleep(step[1])
                elif step[0] == "close":
                    self.transport.close()
                    return
                elif step[0] == "later":
                    asyncio.get_running_loop().call_later(step[1], self._late, step[2])

    def _late(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


def _dechunk(data: bytes) -> tuple[bytes, int]:
    """(body, bytes consumed incl. trailers) of a chunked body, or (b"", -1) when incomplete."""
    out, pos = [], 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return b"", -1
        size = int(data[pos:line_end].split(b";")[0], 16)
        pos = line_end + 2
        if size == 0:
            end = data.find(b"\r\n\r\n", pos - 2)
            if end < 0:
                return b"", -1
            return b"".join(out), end + 4
        if len(data) < pos + size + 2:
            return b"", -1
        out.append(data[pos:pos + size])
        pos += size + 2


@contextmanager
def hostile_upstream(scripts: dict[str, Script] | None = None) -> Iterator[Hostile]:
    """Run the hostile server in a background thread; yields its state (``.url``)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    table = {**SCRIPTS, **(scripts or {})}

    async def main() -> None:
        state = Hostile("")
        server = await loop.create_server(lambda: _Conn(state, table), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        state.url = f"http://127.0.0.1:{port}"
        holder["state"], holder["server"] = state, server
        holder["stop"] = asyncio.Event()
        ready.set()
        await holder["stop"].wait()
        server.close()
        tasks = [c.task for c in list(state.live) if c.task is not None]
        for c in list(state.live):
            if c.transport is not None:
                c.transport.abort()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True,
                              name="hostile-upstream")
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("hostile upstream did not start")
    try:
        yield holder["state"]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
        loop.close()


def inflate_ratio_bomb() -> bytes:
    """The bomb's compressed bytes (for unit checks of the decompression bound)."""
    return _BOMB


__all__ = ["SCRIPTS", "Hostile", "HostileRequest", "hostile_upstream", "large_binary", "response",
           "tagged_json"]
