"""Emulator hardening (issue 11), over real sockets on 127.0.0.1: request head limits → 431
Layer errors, deep JSON → 400, slowloris connections closed, constant-time token compare,
uploads cannot be overwritten without authority."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from layer_migrate.emulator import Emulator
from layer_migrate.emulator.testing import TEST_OPTIONS

from .conftest import Api, cid


@pytest.fixture
def tight() -> Iterator[Emulator]:
    emu = Emulator(**TEST_OPTIONS, max_header_bytes=4096, max_request_line=1024, header_timeout=0.5,
                   body_timeout=0.5, timeout_keep_alive=0.5)
    with emu.running():
        yield emu
    emu.close()


def _raw(emu: Emulator, data: bytes, *, read_timeout: float = 5.0) -> bytes:
    with socket.create_connection((emu.host, emu.port), timeout=read_timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def _layer_error(resp: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


def _request(emu: Emulator, extra: bytes = b"", path: str = "/apps/x/conversations") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {emu.token}\r\n".encode()
            + extra + b"\r\n")


def test_oversized_header_431(tight: Emulator) -> None:
    status, err = _layer_error(_raw(tight, _request(tight, b"X-Big: " + b"a" * 8000 + b"\r\n")))
    assert status == 431 and err["id"] == "invalid_request" and err["data"] == {"limit": "headers", "max_bytes": 4096}
    assert err["url"]


def test_header_sent_in_many_small_chunks_431(tight: Emulator) -> None:
    with socket.create_connection((tight.host, tight.port), timeout=5) as s:
        s.sendall(_request(tight)[:-2])
        for _ in range(100):
            try:
                s.sendall(b"X-Pad: " + b"b" * 90 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        resp = s.recv(65536)
    assert resp.startswith(b"HTTP/1.1 431")


def test_long_request_line_431(tight: Emulator) -> None:
    status, err = _layer_error(_raw(tight, _request(tight, path="/apps/" + "x" * 2000)))
    assert status == 431 and err["data"]["limit"] == "request_line"


def test_limits_leave_normal_requests_alone(tight: Emulator) -> None:
    with httpx.Client(base_url=tight.url, timeout=5) as c:
        r = c.get(tight.path("/users/a"), headers=tight.headers("1.0", **{"X-Pad": "p" * 2000}))
        assert r.status_code == 404 and r.json()["id"] == "not_found"


def test_default_limit_is_16k(emulator: Emulator) -> None:
    status, err = _layer_error(_raw(emulator, _request(emulator, b"X-Big: " + b"a" * 20000 + b"\r\n")))
    assert status == 431 and err["data"]["max_bytes"] == 16384


def _closed_within(emu: Emulator, first: bytes, seconds: float) -> float:
    start = time.monotonic()
    with socket.create_connection((emu.host, emu.port), timeout=seconds + 5) as s:
        if first:
            s.sendall(first)
        while True:
            try:
                if not s.recv(4096):
                    break
            except ConnectionResetError:
                break
    return time.monotonic() - start


def test_idle_connection_closed(tight: Emulator) -> None:
    assert _closed_within(tight, b"", 0.5) < 4


def test_slow_headers_closed(tight: Emulator) -> None:
    assert _closed_within(tight, b"GET /apps/x HTTP/1.1\r\nHost: a\r\n", 0.5) < 4


def test_slow_body_closed(tight: Emulator) -> None:
    head = (f"POST {tight.path('/conversations')} HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n"
            f"Authorization: Bearer {tight.token}\r\nAccept: application/vnd.layer+json; version=1.0\r\n\r\n").encode()
    assert _closed_within(tight, head + b'{"parti', 0.5) < 4
    assert tight.store.conversations() == []


def test_idle_keep_alive_closed(tight: Emulator) -> None:
    req = (f"GET {tight.path('/users/a')} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {tight.token}\r\n"
           "Accept: application/vnd.layer+json; version=1.0\r\n\r\n").encode()
    start = time.monotonic()
    with socket.create_connection((tight.host, tight.port), timeout=6) as s:
        s.sendall(req)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    assert got.startswith(b"HTTP/1.1 404") and time.monotonic() - start < 4


def test_deep_json_400(v1: Api) -> None:
    conv = v1.conversation(["a", "b"], distinct=False)
    deep = b'{"k":' * 300 + b'"x"' + b"}" * 300  # deeper than orjson can serialise (254)
    r = v1.request("POST", "/conversations", content=b'{"participants":["a"],"metadata":' + deep + b"}",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request" and r.json()["data"] == {"max_depth": 64}
    ops = b'[{"operation":"set","property":"metadata.k","value":' + deep + b"}]"
    r = v1.request("PATCH", f"/conversations/{cid(conv)}", content=ops,
                   headers={"Content-Type": "application/vnd.layer-patch+json"})
    assert r.status_code == 400
    very = b"[" * 5000 + b"]" * 5000  # beyond orjson's own parser limit
    r = v1.request("POST", "/conversations", content=very, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request"


def test_token_compare_is_constant_time_and_exact(emulator: Emulator) -> None:
    import inspect

    from layer_migrate.emulator import app

    assert "compare_digest" in inspect.getsource(app.EmulatorApp._handle)
    with httpx.Client(base_url=emulator.url, timeout=5) as c:
        for token in (emulator.token[:-1], emulator.token + "x", "x", "%C3%A9" * 3):
            r = c.get(emulator.path("/users/a"), headers={"Authorization": f"Bearer {token}",
                                                          "Accept": "application/vnd.layer+json; version=1.0"})
            assert r.status_code == 401, token


def test_upload_needs_upload_url_and_cannot_be_overwritten(v1: Api) -> None:
    conv = v1.conversation(["a", "b"])
    r = v1.post(f"/conversations/{cid(conv)}/content",
                headers={"Upload-Content-Type": "text/plain", "Upload-Content-Length": "3"})
    content = r.json()
    bare = content["upload_url"].split("?", 1)[0]
    assert "upload_token=" in content["upload_url"]
    r = v1.client.put(bare, content=b"bad")
    assert r.status_code == 403 and r.json()["id"] == "access_denied"
    r = v1.client.put(bare + "?upload_token=wrong", content=b"bad")
    assert r.status_code == 403
    assert v1.client.put(content["upload_url"], content=b"abc").status_code == 200
    r = v1.client.put(content["upload_url"], content=b"xyz")
    assert r.status_code == 403 and "overwritten" in r.json()["message"]
    r = v1.client.put(bare, content=b"xyz", headers={"Authorization": f"Bearer {v1.emu.token}"})
    assert r.status_code == 403
    cuuid = content["id"].rsplit("/", 1)[1]
    assert v1.client.get(f"{bare.rsplit('/', 1)[0]}/{cuuid}").content == b"abc"


def test_malformed_webhook_target_url_422(emulator: Emulator) -> None:
    h = {"Authorization": f"Bearer {emulator.token}", "Accept": "application/vnd.layer.webhooks+json; version=1.0"}
    with httpx.Client(base_url=emulator.url, timeout=5) as c:
        for url in ("http://[::1", "https://example.com:99999/x", "https://exa mple.com/", "https://a.b:port/"):
            r = c.post(emulator.path("/webhooks"), headers=h, json={
                "version": "1.0", "target_url": url, "events": ["message.sent"], "secret": "s"})
            assert r.status_code == 422, (url, r.text)
            assert r.json()["data"]["property"] == "target_url"
