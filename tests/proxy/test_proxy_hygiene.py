"""HTTP hygiene and faults over real sockets, with a canned upstream (no engine involved:
clients already speaking the upstream version pass through untouched)."""

from __future__ import annotations

import gzip
import socket
import time

import httpx
import orjson
import pytest

from layer_migrate.proxy.canned import CannedBehaviour, canned_message
from layer_migrate.proxy.canned import running as canned_running
from layer_migrate.proxy.serving import free_port

V3 = "application/vnd.layer+json; version=3.0"

APP = "00000000-0000-4000-8000-00000000a991"
H3 = {"accept": V3, "authorization": "Bearer sekrit-token-123"}


def raw_http(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except TimeoutError:
                break
            if not c:
                break
            chunks.append(c)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:") and len(rest) >= int(line.split(b":")[1]):
                        return b"".join(chunks)
        return b"".join(chunks)


def test_passthrough_is_untouched_and_headers_clean(canned, proxy_for):
    url, b = canned
    with proxy_for(url) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c1/messages/m1",
                      headers={**H3, "connection": "keep-alive, x-hop", "x-hop": "1",
                               "proxy-authorization": "Basic abc", "te": "trailers",
                               "x-custom": "kept"})
    assert r.status_code == 200
    assert r.content == canned_message()
    assert r.headers["content-length"] == str(len(r.content))
    sent = b.last_request.lower()
    assert b"x-custom: kept" in sent
    for hop in (b"x-hop", b"proxy-authorization", b"te:"):
        assert hop not in sent
    assert b"authorization: bearer sekrit-token-123" in sent


def test_hostile_host_and_absolute_uri_cannot_redirect(canned, proxy_for):
    url, b = canned
    # a second "victim" server that must never be contacted
    with canned_running(CannedBehaviour(body=b'{"victim":true}')) as (victim_url, victim), proxy_for(url) as p:
        vhost = victim_url.removeprefix("http://")
        for target in (f"http://{vhost}/apps/{APP}/conversations", f"//{vhost}/apps/{APP}/conversations"):
            out = raw_http(p.url, (f"GET {target} HTTP/1.1\r\nHost: {vhost}\r\n"
                                   f"Accept: {V3}\r\nConnection: close\r\n\r\n").encode())
            assert b"victim" not in out
        httpx.get(f"{p.url}/apps/{APP}/conversations", headers={**H3, "host": vhost})
        assert victim.requests == 0
        assert b.requests >= 1
        up_host = url.removeprefix("http://").encode()
        assert b"host: " + up_host in b.last_request.lower()


def test_compressed_upstream_body_is_decoded(proxy_for):
    with canned_running(CannedBehaviour(gzip=True)) as (url, _), proxy_for(url) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c/messages/m", headers=H3)
        assert r.status_code == 200
        assert "content-encoding" not in r.headers
        assert orjson.loads(r.content)["id"].startswith("layer:///messages/")


def test_non_json_body_streamed_unchanged(proxy_for):
    blob = bytes(range(256)) * 1024  # 256 KiB, above the streaming threshold
    with canned_running(CannedBehaviour(body=blob, content_type=b"image/png")) as (url, _), \
            proxy_for(url) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c/content/x", headers=H3)
        assert r.status_code == 200
        assert r.content == blob
        assert r.headers["content-type"] == "image/png"


def test_body_limit_is_413_layer_error(canned, proxy_for):
    url, b = canned
    with proxy_for(url, max_body=1000) as p:
        r = httpx.post(f"{p.url}/apps/{APP}/conversations", content=b"{" + b" " * 5000 + b"}",
                       headers={**H3, "content-type": "application/json"})
    assert r.status_code == 413
    body = r.json()
    assert body["id"] == "invalid_request" and body["data"] == {"max_bytes": 1000}
    assert b.requests == 0


def test_upstream_down_is_502(proxy_for):
    port = free_port()
    with proxy_for(f"http://127.0.0.1:{port}", retries=1) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3)
    assert r.status_code == 502
    body = r.json()
    assert body["id"] == "service_unavailable" and body["code"] == 1 and "url" in body


def test_slow_upstream_is_504(proxy_for):
    with canned_running(CannedBehaviour(delay=2.0)) as (url, b), \
            proxy_for(url, upstream_timeout=0.3, retries=0) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3, timeout=10)
    assert r.status_code == 504
    assert r.json()["id"] == "request_timeout"


def test_reset_retried_for_idempotent_not_for_unsafe_post(proxy_for):
    with canned_running(CannedBehaviour(reset_every=2)) as (url, b), proxy_for(url, retries=2) as p:
        # GET: the reset attempt is repeated and the client gets its answer
        with httpx.Client(timeout=10) as c:
            for _ in range(4):
                assert c.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3).status_code == 200
        b.requests = 1  # next request (POST) is the 2nd → reset
        # POST /notifications has no de-duplication: never repeated once it may have been sent
        r = httpx.post(f"{p.url}/apps/{APP}/notifications", json={"recipients": []}, headers=H3)
        assert r.status_code == 502
        assert b.requests == 2


def test_5xx_retried_only_when_safe(proxy_for):
    with canned_running(CannedBehaviour(fail_every=2)) as (url, b), proxy_for(url, retries=2) as p:
        b.requests = 1
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3)
        assert r.status_code == 200 and b.requests == 3
        b.requests = 1
        r = httpx.post(f"{p.url}/apps/{APP}/notifications", json={"recipients": []}, headers=H3)
        assert r.status_code == 503 and b.requests == 2


def test_health_metrics_and_secrets_not_logged(canned, proxy_for, tmp_path):
    url, _ = canned
    with proxy_for(url) as p:
        assert httpx.get(f"{p.url}/-/health").json()["status"] == "ok"
        httpx.get(f"{p.url}/apps/{APP}/conversations/c?token=x", headers=H3)
        text = httpx.get(f"{p.url}/-/metrics").text
    assert ('layer_proxy_requests_total{client_version="3.0",endpoint="conversations.get",'
            'mode="passthrough",status="200"}') in text  # endpoint named, not "other"
    assert "layer_proxy_upstream_latency_seconds_count" in text
    log = (tmp_path / "access.jsonl").read_text()
    assert "sekrit-token-123" not in log
    rec = orjson.loads(log.splitlines()[0])
    assert rec["path"] == f"/apps/{APP}/conversations/c" and rec["status"] == 200


def test_gzip_request_body_from_client_is_forwarded_raw(canned, proxy_for):
    # A client-compressed body is not JSON the proxy can read; 3.0 clients pass through as-is.
    url, b = canned
    data = gzip.compress(b'{"participants":[]}')
    with proxy_for(url) as p:
        r = httpx.post(f"{p.url}/apps/{APP}/conversations", content=data,
                       headers={**H3, "content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 200
    assert b.last_request.endswith(data)


@pytest.mark.parametrize("n", [1])
def test_graceful_shutdown_finishes_inflight(proxy_for, n):
    import threading

    with canned_running(CannedBehaviour(delay=0.8)) as (url, _):
        results = []
        # the client is built first: on a loaded machine building one (TLS context) can take
        # longer than the 0.3 s before shutdown, and the request would then never be in flight
        with proxy_for(url, graceful_timeout=10) as p, httpx.Client(timeout=10) as client:
            t = threading.Thread(target=lambda: results.append(
                client.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3).status_code))
            t.start()
            time.sleep(0.3)
            p.server.should_exit = True  # what SIGTERM does
            t.join(10)
        assert results == [200]


def test_upstream_connections_are_reused(canned, proxy_for):
    url, b = canned
    with proxy_for(url) as p, httpx.Client() as c:
        for _ in range(30):
            assert c.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3).status_code == 200
            assert c.get(f"{p.url}/apps/{APP}/conversations/c",
                         headers={**H3, "accept": "application/vnd.layer+json; version=1.1"}).status_code == 200
    assert b.requests == 60
    assert b.connections <= 2


def test_idle_connections_past_expiry_are_not_reused(canned, proxy_for):
    url, b = canned
    with proxy_for(url, upstream_keepalive=0.05) as p, httpx.Client() as c:
        for _ in range(3):
            assert c.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3).status_code == 200
            time.sleep(0.15)
    assert b.connections == 3


def test_passthrough_create_with_client_dedupe_is_retried(proxy_for):
    with canned_running(CannedBehaviour(reset_every=2)) as (url, b), proxy_for(url, retries=2) as p:
        b.requests = 1  # the next request is reset after it reached the upstream
        r = httpx.post(f"{p.url}/apps/{APP}/conversations", json={"participants": []},
                       headers={**H3, "if-none-match": "7a0a7f9c-0d63-4c4d-9a43-8c7a2e2f6c11"})
        assert r.status_code == 200 and b.requests == 3
        b.requests = 1  # without If-None-Match the same create is never repeated
        r = httpx.post(f"{p.url}/apps/{APP}/conversations", json={"participants": []}, headers=H3)
        assert r.status_code == 502 and b.requests == 2


def test_chunked_client_body_forwarded_with_length(canned, proxy_for):
    url, b = canned

    def parts():
        yield b'{"participants":'
        yield b' ["a", "b"]}'

    with proxy_for(url, max_body=100) as p:
        r = httpx.post(f"{p.url}/apps/{APP}/conversations", content=parts(),
                       headers={**H3, "content-type": "application/json"})
        assert r.status_code == 200
        head = b.last_request.lower()
        assert b"content-length: 28\r\n" in head and b"transfer-encoding" not in head
        assert head.endswith(b'{"participants": ["a", "b"]}')

        def big():
            for _ in range(10):
                yield b"x" * 50

        before = b.requests
        r = httpx.post(f"{p.url}/apps/{APP}/conversations", content=big(),
                       headers={**H3, "content-type": "application/json"})
        assert r.status_code == 413 and b.requests == before


@pytest.mark.parametrize("ctype", [b"application/json; charset=UTF-8", b"image/png"])
def test_close_delimited_upstream_body(proxy_for, ctype):
    body = canned_message() if b"json" in ctype else bytes(range(256)) * 400
    with canned_running(CannedBehaviour(body=body, content_type=ctype, close_delimited=True)) as (url, b), \
            proxy_for(url) as p, httpx.Client() as c:
        for _ in range(3):
            r = c.get(f"{p.url}/apps/{APP}/conversations/c", headers=H3)
            assert r.status_code == 200 and r.content == body
        assert b.connections == 3
