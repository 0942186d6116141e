"""requests, httpx (sync/async) and aiohttp code talking to ``api.layer.com`` and to another host
in one process: after ``install()`` only the Layer calls change — the other host receives the
same bytes and the program sees the same answer as without the installation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import httpx
import pytest
import requests
from inprocess_servers import BODY, raw_server

import layer_migrate
from layer_migrate.emulator import Emulator

V11 = "application/vnd.layer+json; version=1.1"
APP = "00000000-0000-4000-8000-00000000a991"
CREATE = {"participants": ["alice", "bob"], "distinct": False, "metadata": {"topic": "x"}}


def _headers(token: str) -> dict[str, str]:
    return {"Accept": V11, "Authorization": f"Bearer {token}", "Content-Type": "application/json"}


# Each face: (base_url, token) -> list of (status, headers-that-matter, body bytes) for:
#   POST {base}/apps/APP/conversations  then  GET the created conversation (when it has an id).

def _requests_session(base: str, token: str) -> list:
    out = []
    with requests.Session() as s:
        r = s.post(f"{base}/apps/{APP}/conversations", data=json.dumps(CREATE), headers=_headers(token), timeout=10)
        out.append((r.status_code, r.headers.get("content-type"), r.content))
        r2 = s.get(r.json()["url"].replace("https://api.layer.com", base), headers=_headers(token), timeout=10)
        out.append((r2.status_code, r2.headers.get("content-type"), r2.content))
    return out


def _requests_module(base: str, token: str) -> list:
    r = requests.request("POST", f"{base}/apps/{APP}/conversations", data=json.dumps(CREATE),
                         headers=_headers(token), timeout=10)
    r2 = requests.get(r.json()["url"].replace("https://api.layer.com", base), headers=_headers(token), timeout=10)
    return [(x.status_code, x.headers.get("content-type"), x.content) for x in (r, r2)]


def _httpx_client(base: str, token: str) -> list:
    with httpx.Client(timeout=10) as c:
        r = c.post(f"{base}/apps/{APP}/conversations", content=json.dumps(CREATE), headers=_headers(token))
        r2 = c.get(r.json()["url"].replace("https://api.layer.com", base), headers=_headers(token))
    return [(x.status_code, x.headers.get("content-type"), x.content) for x in (r, r2)]


def _httpx_module(base: str, token: str) -> list:
    r = httpx.post(f"{base}/apps/{APP}/conversations", content=json.dumps(CREATE), headers=_headers(token))
    r2 = httpx.get(r.json()["url"].replace("https://api.layer.com", base), headers=_headers(token))
    return [(x.status_code, x.headers.get("content-type"), x.content) for x in (r, r2)]


def _httpx_async(base: str, token: str) -> list:
    async def main() -> list:
        async with httpx.AsyncClient(timeout=10) as c:
            r = await c.post(f"{base}/apps/{APP}/conversations", content=json.dumps(CREATE), headers=_headers(token))
            r2 = await c.get(r.json()["url"].replace("https://api.layer.com", base), headers=_headers(token))
        return [(x.status_code, x.headers.get("content-type"), x.content) for x in (r, r2)]

    return asyncio.run(main())


def _aiohttp_session(base: str, token: str) -> list:
    async def main() -> list:
        out = []
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{base}/apps/{APP}/conversations", json=CREATE, headers={"Accept": V11,
                              "Authorization": f"Bearer {token}"}) as r:
                body = await r.json()
                out.append((r.status, r.headers.get("content-type"), await r.read()))
            async with s.get(body["url"].replace("https://api.layer.com", base), headers=_headers(token)) as r2:
                out.append((r2.status, r2.headers.get("content-type"), await r2.content.read()))
        return out

    return asyncio.run(main())


def _aiohttp_request(base: str, token: str) -> list:
    async def main() -> list:
        async with aiohttp.request("POST", f"{base}/apps/{APP}/conversations", data=json.dumps(CREATE),
                                   headers=_headers(token)) as r:
            body = await r.json()
            first = (r.status, r.headers.get("content-type"), await r.read())
        async with aiohttp.request("GET", body["url"].replace("https://api.layer.com", base),
                                   headers=_headers(token)) as r2:
            return [first, (r2.status, r2.headers.get("content-type"), await r2.text())]

    out = asyncio.run(main())
    return [out[0], (out[1][0], out[1][1], out[1][2].encode())]


FACES: dict[str, Callable[[str, str], list]] = {
    "requests.Session": _requests_session,
    "requests.request": _requests_module,
    "httpx.Client": _httpx_client,
    "httpx.post": _httpx_module,
    "httpx.AsyncClient": _httpx_async,
    "aiohttp.ClientSession": _aiohttp_session,
    "aiohttp.request": _aiohttp_request,
}


@pytest.fixture(scope="module")
def servers():
    with Emulator().running() as emu, raw_server() as other:
        host, port = other.server_address[:2]
        yield emu, other, f"http://{host}:{port}"


@pytest.mark.parametrize("face", list(FACES))
def test_only_layer_calls_change(servers, face):
    emu, other, other_url = servers
    drive = FACES[face]

    other.received.clear()
    plain_answers = drive(other_url, "other-token")
    plain_bytes = list(other.received)
    assert [a[2] for a in plain_answers] == [BODY, BODY] and len(plain_bytes) == 2

    with layer_migrate.install("3.0", upstream=emu.url) as inst:
        other.received.clear()
        layer = drive("https://api.layer.com", emu.token)
        again = drive(other_url, "other-token")
        assert list(other.received) == plain_bytes  # byte for byte, Layer-looking or not
        assert again == plain_answers
        summary = inst.summary()

    # the Layer calls went to the emulator at 3.0 and came back as v1
    (s1, ct1, b1), (s2, _, b2) = layer
    created, read = json.loads(b1), json.loads(b2)
    assert (s1, s2) == (201, 200) and ct1.startswith("application/json")
    assert created["participants"] == ["alice", "bob"] == read["participants"]  # 3.0: identity objects
    assert created["id"] == read["id"] and created["url"].startswith("https://api.layer.com/apps/")
    assert "hdr.accept.v3" in summary["conversations.create"]["rules"]
    assert "v2.participants.identity_ids" in summary["conversations.create"]["rules"]
    assert summary["conversations.get"]["calls"] == 1
    uuid = created["id"].rsplit("/", 1)[1]
    assert any(uuid in json.dumps(c) for c in emu.store.conversations())


def test_other_host_untouched_when_it_looks_like_layer_but_is_not_listed(servers):
    """Exact host matching: ``api.layer.com.evil.example`` style look-alikes are not taken over,
    and a ``--host`` list replaces the default."""
    emu, other, other_url = servers
    with layer_migrate.install("3.0", upstream=emu.url, hosts=["layer.internal"]) as inst:
        assert inst.config.matches("layer.internal") and inst.config.matches("LAYER.internal")
        assert not inst.config.matches("api.layer.com")
        assert not inst.config.matches("layer.internal.evil.example")
        other.received.clear()
        answers = _requests_session(other_url, "t")
        assert [a[2] for a in answers] == [BODY, BODY]
        assert inst.summary() == {}


def test_host_with_port_entry(servers):
    """A ``host:port`` entry takes over exactly that port: here the raw server's own address,
    rerouted to the emulator (the raw server then receives nothing)."""
    emu, other, other_url = servers
    host, port = other.server_address[:2]
    with layer_migrate.install("3.0", upstream=emu.url, hosts=[f"{host}:{port}"]):
        other.received.clear()
        r = requests.post(f"{other_url}/apps/{APP}/conversations", data=json.dumps(CREATE),
                          headers=_headers(emu.token), timeout=10)
        h = httpx.post(f"{other_url}/apps/{APP}/conversations", content=json.dumps(CREATE),
                       headers=_headers(emu.token))
    assert r.status_code == h.status_code == 201
    assert r.json()["participants"] == h.json()["participants"] == ["alice", "bob"]
    assert other.received == []
