"""The adversarial matrix: every upstream client of the project against the hostile upstream.

Faces: the proxy with ``fastclient`` and with aiohttp (real sockets: test client → proxy →
hostile upstream), the httpx transport and the requests adapter (in process → hostile upstream).
Every request carries its own tag; a poison answer carries ``LEAK`` and must never reach anyone,
and each follow-up request on the (possibly reused) connection must get its own answer.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import requests
from hostile import hostile_upstream, inflate_ratio_bomb, large_binary

from layer_migrate.proxy import MigratingAdapter, MigratingTransport
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

V1 = "application/vnd.layer+json; version=1.1"
V3 = "application/vnd.layer+json; version=3.0"
FACES = ("fast", "aiohttp", "httpx", "requests")
PROXIES = ("fast", "aiohttp")


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> dict:
        import orjson

        return orjson.loads(self.body)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]


Get = Callable[..., Answer]


@contextmanager
def face(kind: str, upstream: str, **cfg) -> Iterator[Get]:
    """A ``get(case, tag, accept=V3)`` function for one upstream client path."""
    def headers(case: str, tag: str, accept: str) -> dict[str, str]:
        return {"accept": accept, "x-hostile-case": case, "x-hostile-tag": tag,
                "authorization": "Bearer t"}

    if kind in PROXIES:
        cfg.setdefault("retries", 0)
        cfg.setdefault("upstream_timeout", 5.0)
        config = ProxyConfig(upstream=upstream, port=0, upstream_client=kind, access_log=None, **cfg)
        with running(config) as proxy, httpx.Client(base_url=proxy.url, timeout=20) as client:
            def get(case: str, tag: str, accept: str = V3) -> Answer:
                r = client.get(f"/hostile/{case}", headers=headers(case, tag, accept))
                return Answer(r.status_code, [(k.decode().lower(), v.decode()) for k, v in r.headers.raw],
                              r.content)
            yield get
    elif kind == "httpx":
        with httpx.Client(base_url=upstream, timeout=20,
                          transport=MigratingTransport(upstream=upstream, retries=0)) as client:
            def get(case: str, tag: str, accept: str = V3) -> Answer:
                r = client.get(f"/hostile/{case}", headers=headers(case, tag, accept))
                return Answer(r.status_code, [(k.decode().lower(), v.decode()) for k, v in r.headers.raw],
                              r.content)
            yield get
    else:
        with requests.Session() as session:
            session.mount(upstream, MigratingAdapter(upstream=upstream, retries=0))

            def get(case: str, tag: str, accept: str = V3) -> Answer:
                r = session.get(f"{upstream}/hostile/{case}", headers=headers(case, tag, accept), timeout=20)
                return Answer(r.status_code, [(k.lower(), v) for k, v in r.headers.items()], r.content)
            yield get


def own(answer: Answer, tag: str) -> None:
    """The answer is a 200 carrying exactly this request's tag."""
    assert answer.status == 200, (answer.status, answer.body[:200])
    assert b"LEAK" not in answer.body
    assert answer.json()["tag"] == tag


def layer_error(answer: Answer, status: int, eid: str) -> dict:
    assert answer.status == status, (answer.status, answer.body[:300])
    err = answer.json()
    assert set(err) >= {"id", "code", "message", "url", "data"}, err
    assert err["id"] == eid
    return err


@pytest.mark.parametrize("kind", FACES)
@pytest.mark.parametrize("case", ["continue_100", "processing_102", "early_hints_103"])
def test_interim_responses_never_complete_an_exchange(kind, case):
    with hostile_upstream() as up, face(kind, up.url) as get:
        for i in range(3):
            first = get(case, f"A{i}")
            if kind == "requests" and case != "continue_100":
                # http.client skips only 100 and hands 102/103 over as final: the adapter closes
                # that connection and refuses the exchange instead of answering the wrong thing.
                assert layer_error(first, 502, "service_unavailable")["data"]["upstream"] == "bad_status"
            else:
                own(first, f"A{i}")
            own(get("plain", f"B{i}"), f"B{i}")  # the next client on that connection


@pytest.mark.parametrize("kind", FACES)
@pytest.mark.parametrize("case", ["extra_response", "trailing_bytes", "short_length",
                                  "no_content_with_body", "not_modified_with_body", "idle_unsolicited"])
def test_bytes_beyond_the_framing_discard_the_connection(kind, case):
    with hostile_upstream() as up, face(kind, up.url) as get:
        for i in range(3):
            first = get(case, f"A{i}")
            assert b"LEAK" not in first.body
            if case in ("no_content_with_body", "not_modified_with_body"):
                assert first.status in (204, 304) and first.body == b""
            elif kind == "aiohttp" and case in ("trailing_bytes", "short_length") and first.status == 502:
                # aiohttp's parser fails the whole read when garbage follows the message in the
                # same packet: a refusal, never a leak (fastclient answers the complete message).
                assert layer_error(first, 502, "service_unavailable")["data"]["upstream"] == "reset"
            else:
                own(first, f"A{i}")
            time.sleep(0.15)  # let late bytes reach the idle pooled connection
            for j in range(2):
                own(get("plain", f"B{i}{j}"), f"B{i}{j}")


@pytest.mark.parametrize("kind", FACES)
def test_unknown_status_is_a_502_layer_error(kind):
    with hostile_upstream() as up, face(kind, up.url) as get:
        err = layer_error(get("status_999", "A"), 502, "service_unavailable")
        assert err["data"]["upstream"] == "bad_status"
        own(get("plain", "B"), "B")


@pytest.mark.parametrize("kind", FACES)
def test_multiple_set_cookie_headers_stay_separate(kind):
    with hostile_upstream() as up, face(kind, up.url) as get:
        for accept in (V3, V1):
            answer = get("multi_cookie", "A", accept)
            own(answer, "A")
            if kind == "requests":  # requests folds them in its own CaseInsensitiveDict
                assert answer.all("set-cookie") == [
                    "a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT, b=2; Path=/"]
            else:
                assert answer.all("set-cookie") == ["a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
                                                    "b=2; Path=/"]


@pytest.mark.parametrize("kind", FACES)
def test_chunked_response_with_trailers(kind):
    with hostile_upstream() as up, face(kind, up.url) as get:
        for accept in (V3, V1):
            own(get("chunked_trailers", "A", accept), "A")
            own(get("plain", "B", accept), "B")


@pytest.mark.parametrize("kind", FACES)
def test_gzip_bomb_to_translate_is_a_502(kind):
    with hostile_upstream() as up, face(kind, up.url) as get:
        err = layer_error(get("gzip_bomb", "A", V1), 502, "service_unavailable")
        assert err["data"]["upstream"] == "too_large"
        own(get("plain", "B", V1), "B")


@pytest.mark.parametrize("kind", FACES)
def test_gzip_json_is_decoded_for_translation(kind):
    with hostile_upstream() as up, face(kind, up.url) as get:
        for accept in (V1, V3):
            own(get("gzip_json", "A", accept), "A")


@pytest.mark.parametrize("kind", FACES)
def test_large_gzip_binary_arrives_intact(kind):
    """Issue 13's gzip bug: the bytes the client decodes are the bytes the upstream encoded."""
    with hostile_upstream() as up, face(kind, up.url) as get:
        for accept in (V3, V1):
            answer = get("gzip_large_binary", "A", accept)
            assert answer.status == 200
            assert answer.body == large_binary("A")


@pytest.mark.parametrize("kind", PROXIES)
def test_binary_gzip_bomb_is_relayed_not_inflated(kind):
    """A streamed non-JSON body travels with its Content-Encoding: the proxy never inflates it."""
    with hostile_upstream() as up:
        config = ProxyConfig(upstream=up.url, port=0, upstream_client=kind, access_log=None)
        with running(config) as proxy, httpx.Client(base_url=proxy.url, timeout=20) as client:
            with client.stream("GET", "/hostile/x", headers={"x-hostile-case": "gzip_bomb_binary",
                                                             "accept": V1}) as r:
                raw = b"".join(r.iter_raw())
            assert r.status_code == 200
            assert r.headers["content-encoding"] == "gzip"
            assert raw == inflate_ratio_bomb()
            assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 1024) == b"\0" * 1024


@pytest.mark.parametrize("kind", ("httpx", "requests"))
def test_binary_gzip_bomb_in_process_is_a_502(kind):
    with hostile_upstream() as up, face(kind, up.url) as get:
        err = layer_error(get("gzip_bomb_binary", "A"), 502, "service_unavailable")
        assert err["data"]["upstream"] == "too_large"


@pytest.mark.parametrize("kind", PROXIES)
def test_trickled_json_answer_times_out(kind):
    with hostile_upstream() as up, face(kind, up.url, upstream_timeout=0.8) as get:
        started = time.monotonic()
        err = layer_error(get("trickle_json", "A", V1), 504, "request_timeout")
        assert err["data"]["upstream"] == "timeout"
        assert time.monotonic() - started < 3
        own(get("plain", "B"), "B")
