"""A raw HTTP/1.1 server on 127.0.0.1 that records the exact bytes of each request it receives
and answers fixed bytes — the "other host" whose traffic must be untouched byte for byte."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: A Layer-looking v1 answer: if anything translated it, the client would see it changed.
BODY = (b'{"id":"layer:///conversations/c1","participants":["alice","bob"],"distinct":false,'
        b'"metadata":null,"url":"https://api.layer.com/apps/00000000-0000-4000-8000-00000000a991/'
        b'conversations/c1"}')
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
          b"X-Other-Host: yes\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                rest += chunk
            body, buf = rest[:length], rest[length:]
            with self.server.lock:  # type: ignore[attr-defined]
                self.server.received.append(head + b"\r\n\r\n" + body)  # type: ignore[attr-defined]
            sock.sendall(ANSWER)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.received: list[bytes] = []


@contextmanager
def raw_server() -> Iterator[_Server]:
    """``with raw_server() as srv``: ``srv.server_address``, ``srv.received`` (request bytes)."""
    srv = _Server()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
