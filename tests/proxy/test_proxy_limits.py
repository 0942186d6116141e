"""Proxy limits over real sockets (issue 11 findings 3, 5, 8): every refusal a Layer error.

Header and request-line sizes (431), slowloris deadlines (idle, slow headers, slow body),
bounded pool-slot waits (503), idle/total deadlines on streamed answers, slots freed when the
client goes away, chunked trailers never forwarded, JSON nested too deep (400).
"""

from __future__ import annotations

import socket
import time

import httpx
import orjson
import pytest
from hostile import hostile_upstream

from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

V1 = "application/vnd.layer+json; version=1.1"
V3 = "application/vnd.layer+json; version=3.0"
APP = "00000000-0000-4000-8000-00000000a991"


def proxy(upstream: str, **kw):
    kw.setdefault("access_log", None)
    kw.setdefault("retries", 0)
    return running(ProxyConfig(upstream=upstream, port=0, **kw))


def raw_exchange(url: str, data: bytes, *, pause: float = 0.0, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` over a fresh socket; (everything read until close, seconds to close)."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        if data:
            s.sendall(data)
        if pause:
            time.sleep(pause)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out, time.monotonic() - started


def layer_body(raw: bytes, status: int) -> dict:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), head[:100]
    err = orjson.loads(body)
    assert set(err) >= {"id", "code", "message", "url", "data"}
    return err


def test_header_block_too_large_is_431():
    with hostile_upstream() as up, proxy(up.url, max_header_bytes=4096) as p:
        big = b"x-big: " + b"a" * 8000 + b"\r\n"
        out, _ = raw_exchange(p.url, b"GET /hostile/plain HTTP/1.1\r\nhost: x\r\n" + big + b"\r\n")
        err = layer_body(out, 431)
        assert err["id"] == "invalid_request" and err["data"]["max_bytes"] == 4096
        ok = httpx.get(f"{p.url}/hostile/plain", headers={"x-hostile-tag": "B", "accept": V3})
        assert ok.status_code == 200 and ok.json()["tag"] == "B"
        assert all(r.header("x-big") == "" for r in up.requests)  # never forwarded


def test_request_line_too_long_is_431():
    with hostile_upstream() as up, proxy(up.url, max_request_line=1024) as p:
        out, _ = raw_exchange(p.url, b"GET /hostile/" + b"a" * 4000 + b" HTTP/1.1\r\nhost: x\r\n\r\n")
        assert layer_body(out, 431)["data"]["limit"] == "request_line"
        assert up.requests == []


def test_huge_header_is_refused_before_it_is_buffered():
    """100 MiB of header used to take 44 s and 661 MB; now the proxy stops at the limit."""
    with hostile_upstream() as up, proxy(up.url) as p:
        host, port = p.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nx-huge: ")
            sent = 0
            try:
                while sent < 100 << 20:
                    s.sendall(b"a" * 65536)
                    sent += 65536
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert sent < 8 << 20  # closed long before 100 MiB crossed


def test_idle_connection_is_closed():
    with hostile_upstream() as up, proxy(up.url, header_timeout=0.5) as p:
        out, took = raw_exchange(p.url, b"")
        assert out == b"" and took < 3


def test_slow_headers_are_closed():
    with hostile_upstream() as up, proxy(up.url, header_timeout=1.0) as p:
        host, port = p.url.removeprefix("http://").split(":")
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            try:
                s.sendall(b"GET /hostile/plain HTTP/1.1\r\nhost: x\r\nx-slow: ")
                for _ in range(50):  # one byte every 0.1 s would take 5 s
                    s.sendall(b"a")
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            s.settimeout(5)
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
        assert time.monotonic() - started < 4
        assert up.requests == []


def test_slow_body_gets_408_and_is_closed():
    with hostile_upstream() as up, proxy(up.url, body_timeout=0.8) as p:
        out, took = raw_exchange(p.url, b"POST /hostile/plain HTTP/1.1\r\nhost: x\r\ncontent-type: "
                                 b"application/json\r\ncontent-length: 100\r\n\r\n{\"a\":", timeout=10)
        err = layer_body(out, 408)
        assert err["id"] == "request_timeout"
        assert took < 4
        assert up.requests == []


def test_chunked_trailers_are_not_forwarded_upstream():
    with hostile_upstream() as up, proxy(up.url) as p:
        body = b'{"a":1}'
        out, _ = raw_exchange(p.url, b"POST /hostile/plain HTTP/1.1\r\nhost: x\r\naccept: " + V3.encode()
                              + b"\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n"
                              b"connection: close\r\nx-hostile-tag: T\r\n\r\n"
                              + b"%x\r\n" % len(body) + body + b"\r\n0\r\nx-evil: 1\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 200")
        assert len(up.requests) == 1
        seen = {k.lower() for k, _ in up.requests[0].headers}
        assert "x-evil" not in seen and "x-hostile-tag" in seen
        assert up.requests[0].body == body


def test_json_nested_too_deep_is_400():
    with hostile_upstream() as up, proxy(up.url) as p:
        deep = b'{"parts":' + b"[" * 300 + b"]" * 300 + b"}"
        r = httpx.post(f"{p.url}/apps/{APP}/conversations/c/messages", content=deep,
                       headers={"accept": V1, "content-type": "application/json"})
        assert r.status_code == 400
        assert r.json()["id"] == "invalid_request" and r.json()["data"]["max_depth"] == 250
        assert up.requests == []
        shallow = b'{"x":' + b"[" * 200 + b"]" * 200 + b"}"
        r = httpx.post(f"{p.url}/hostile/plain", content=shallow,
                       headers={"accept": V1, "content-type": "application/json"})
        assert r.status_code == 200


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_full_pool_answers_503_then_recovers(client):
    with hostile_upstream() as up, proxy(up.url, upstream_client=client, pool_size=2, pool_wait=0.5,
                                         stream_idle_timeout=1.5) as p:
        holders = [httpx.Client(base_url=p.url, timeout=10) for _ in range(2)]
        streams = []
        try:
            for i, c in enumerate(holders):
                cm = c.stream("GET", "/hostile/s", headers={"x-hostile-case": "stall_binary",
                                                           "x-hostile-tag": f"S{i}", "accept": V3})
                r = cm.__enter__()
                assert r.status_code == 200
                streams.append(cm)
            started = time.monotonic()
            r = httpx.get(f"{p.url}/hostile/plain", headers={"x-hostile-tag": "W", "accept": V3}, timeout=10)
            assert r.status_code == 503
            err = r.json()
            assert err["id"] == "service_unavailable" and err["data"]["upstream"] == "pool"
            assert time.monotonic() - started < 2.5
            time.sleep(1.8)  # the stalled streams hit their idle deadline and free the slots
            r = httpx.get(f"{p.url}/hostile/plain", headers={"x-hostile-tag": "X", "accept": V3}, timeout=10)
            assert r.status_code == 200 and r.json()["tag"] == "X"
        finally:
            for cm in streams:
                try:
                    cm.__exit__(None, None, None)
                except httpx.HTTPError:
                    pass
            for c in holders:
                c.close()


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_slot_is_freed_when_the_client_goes_away(client):
    with hostile_upstream() as up, proxy(up.url, upstream_client=client, pool_size=1, pool_wait=0.5,
                                         stream_idle_timeout=30) as p:
        for i in range(3):
            with httpx.Client(base_url=p.url, timeout=10) as c:
                with c.stream("GET", "/hostile/s", headers={"x-hostile-case": "stall_binary",
                                                           "x-hostile-tag": f"S{i}", "accept": V3}) as r:
                    assert r.status_code == 200
            time.sleep(0.3)  # the client is gone; its slot must be back well before 30 s
            r = httpx.get(f"{p.url}/hostile/plain", headers={"x-hostile-tag": f"X{i}", "accept": V3})
            assert r.status_code == 200 and r.json()["tag"] == f"X{i}"


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_trickled_stream_is_cut_at_the_total_deadline(client):
    with hostile_upstream() as up, proxy(up.url, upstream_client=client, stream_total_timeout=1.5) as p:
        started = time.monotonic()
        got = b""
        with pytest.raises(httpx.HTTPError):
            with httpx.Client(base_url=p.url, timeout=10) as c:
                with c.stream("GET", "/hostile/t", headers={"x-hostile-case": "trickle_binary",
                                                           "x-hostile-tag": "T", "accept": V3}) as r:
                    assert r.status_code == 200
                    for chunk in r.iter_raw():
                        got += chunk
        assert time.monotonic() - started < 4
        assert 0 < len(got) < 200 * 1024
        r = httpx.get(f"{p.url}/hostile/plain", headers={"x-hostile-tag": "X", "accept": V3})
        assert r.status_code == 200 and r.json()["tag"] == "X"


def test_signed_webhook_without_message_or_as_v1_is_422_and_not_forwarded():
    from layer_migrate.proxy.webhooks import sign

    with hostile_upstream() as receiver, hostile_upstream() as up, proxy(
            up.url, webhook_target=receiver.url + "/hook", webhook_secret="s1",
            upstream_webhook_secret="s2") as p:
        cases = [
            ("Message.created", "application/vnd.layer.webhooks+json; version=3.0", {"event": {"type": "Message.created"}}),
            ("message.sent", "application/vnd.layer.webhooks+json; version=1.0",
             {"event": {"type": "message.sent"}, "message": {"id": "layer:///messages/x"}}),
        ]
        for etype, ctype, body in cases:
            raw = orjson.dumps(body)
            r = httpx.post(f"{p.url}/-/webhooks", content=raw, headers={
                "content-type": ctype, "layer-webhook-event-type": etype,
                "layer-webhook-signature": sign("s2", raw)})
            assert r.status_code == 422, (etype, r.status_code, r.text)
            err = r.json()
            assert err["id"] == "invalid_property" and set(err) >= {"id", "code", "message", "url"}
        assert receiver.requests == []


def test_percent_encoded_app_id_is_not_double_encoded_in_prerequisites():
    with hostile_upstream() as up, proxy(up.url) as p:
        httpx.post(f"{p.url}/apps/my%2Fapp/conversations/c1/messages",
                   headers={"accept": V1, "content-type": "application/json"},
                   json={"sender": {"name": "Support Bot"},
                         "parts": [{"body": "hi", "mime_type": "text/plain"}]})
        targets = [r.target for r in up.requests]
        assert any("/users/" in t for t in targets), targets  # the identity prerequisite ran
        assert all(t.startswith("/apps/my%2Fapp/") for t in targets), targets


def _report_only_cases():
    import gzip

    from hostile import response

    def answer(req):
        body = gzip.compress(b'{"id":"layer:///messages/m","tag":"%s"}' % req.tag.encode())
        return [response(200, body, headers=[(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"),
                                             (b"X-Mixed-Case", b"Kept"), (b"Content-Encoding", b"gzip")])]
    return {"verbatim": answer}


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_report_only_forwards_byte_for_byte(client):
    import gzip

    with hostile_upstream(_report_only_cases()) as up, proxy(
            up.url, upstream_client=client, report_only=True, upstream_version="1.0") as p:
        out, _ = raw_exchange(p.url, b"GET /apps/a/conversations/c/messages/m HTTP/1.1\r\nhost: x\r\n"
                              b"accept: " + V1.encode() + b"\r\nte: trailers\r\nexpect: 100-continue\r\n"
                              b"accept-encoding: gzip\r\nx-dup: 1\r\nx-dup: 2\r\nx-hostile-case: verbatim\r\n"
                              b"x-hostile-tag: R\r\nconnection: close\r\n\r\n")
        seen = up.requests[0].headers
        names = [k for k, _ in seen]
        for must in ("te", "expect", "accept-encoding"):
            assert must in names, names
        assert [v for k, v in seen if k == "x-dup"] == ["1", "2"]  # not merged
        if out.startswith(b"HTTP/1.1 100"):  # uvicorn's own interim answer to the expect
            out = out.partition(b"\r\n\r\n")[2]
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0].startswith(b"HTTP/1.1 200")
        # uvicorn writes every field name lower-case (both directions); values, order and
        # repeats are the upstream's
        assert b"set-cookie: a=1" in lines and b"set-cookie: b=2" in lines
        assert b"x-mixed-case: Kept" in lines and b"content-encoding: gzip" in lines
        assert gzip.decompress(body) == b'{"id":"layer:///messages/m","tag":"R"}'  # not decoded


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_upstream_json_nested_too_deep_is_a_502_not_a_500(client):
    from hostile import response

    deep = {"deep": lambda req: [response(200, b'{"x":' + b"[" * 300 + b"]" * 300 + b"}")]}
    with hostile_upstream(deep) as up, proxy(up.url, upstream_client=client) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c/messages/m",
                      headers={"accept": V1, "x-hostile-case": "deep"})
        assert r.status_code == 502
        assert r.json()["id"] == "service_unavailable" and r.json()["data"]["upstream"] == "too_deep"


def test_limit_flags_reach_the_config(tmp_path):
    from click.testing import CliRunner

    from layer_migrate.cli import main

    r = CliRunner().invoke(main, ["proxy", "--upstream", "http://127.0.0.1:9", "--pool-wait", "0"])
    assert r.exit_code == 2 and "--pool-wait must be positive" in r.output
    conf = tmp_path / "p.toml"
    conf.write_text('[proxy]\nupstream = "http://127.0.0.1:9"\nmax-header-bytes = 1024\nheader-timeout = 2.5\n')
    cfg = ProxyConfig.from_toml(conf, pool_wait=1.5)
    assert (cfg.max_header_bytes, cfg.header_timeout, cfg.pool_wait) == (1024, 2.5, 1.5)


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_client_that_never_reads_a_large_body_frees_its_slot(client):
    """Finding 3's exact case: headers read, body never read, connection kept open."""
    from hostile import response

    huge = {"huge": lambda req: [response(200, b"z" * (48 << 20), ctype=b"application/octet-stream")]}
    with hostile_upstream(huge) as up, proxy(up.url, upstream_client=client, pool_size=1, pool_wait=0.5,
                                             stream_idle_timeout=1.0) as p:
        with httpx.Client(base_url=p.url, timeout=10) as c:
            with c.stream("GET", "/hostile/h", headers={"x-hostile-case": "huge", "accept": V3}) as r:
                assert r.status_code == 200
                time.sleep(2.5)  # never read: the proxy's writes stall, the idle deadline fires
                r2 = httpx.get(f"{p.url}/hostile/plain", headers={"x-hostile-tag": "X", "accept": V3})
                assert r2.status_code == 200 and r2.json()["tag"] == "X"
