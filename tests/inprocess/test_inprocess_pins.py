"""Pins on the libraries' extension points the installation relies on (docs/inprocess.md): a
requests/httpx/aiohttp upgrade that moves one of them fails here, loudly, with the name of the
point — not as Layer calls silently going out untranslated."""

from __future__ import annotations

import asyncio
import inspect

import aiohttp
import httpx
import pytest
import requests

import layer_migrate
from layer_migrate.inprocess.aiohttp_hook import build_response


class _Seen(Exception):
    """Raised by a probe to prove the library reached it, with nothing sent."""


def test_requests_session_send_picks_the_adapter_with_get_adapter(monkeypatch):
    """requests: ``Session.send`` (so every Session and module-level ``requests.request``) asks
    ``Session.get_adapter(url=...)`` for the adapter."""
    seen = []

    def probe(self, url):
        seen.append(url)
        raise _Seen

    monkeypatch.setattr(requests.Session, "get_adapter", probe)
    with pytest.raises(_Seen):
        requests.request("GET", "https://api.layer.com/apps/x")
    with pytest.raises(_Seen):
        requests.Session().get("https://api.layer.com/apps/y")
    assert seen == ["https://api.layer.com/apps/x", "https://api.layer.com/apps/y"]
    assert "url" in inspect.signature(requests.Session.get_adapter).parameters


def test_requests_adapter_contract():
    """The migrating adapter is an HTTPAdapter whose ``send`` has requests' signature."""
    from layer_migrate.proxy import MigratingAdapter

    assert issubclass(MigratingAdapter, requests.adapters.HTTPAdapter)
    params = list(inspect.signature(requests.adapters.HTTPAdapter.send).parameters)
    assert params[:7] == ["self", "request", "stream", "timeout", "verify", "cert", "proxies"]


@pytest.mark.parametrize("make", [
    lambda: httpx.Client().get("https://api.layer.com/apps/x"),
    lambda: httpx.get("https://api.layer.com/apps/x"),
    lambda: httpx.Client(verify=False, http2=False).get("https://api.layer.com/apps/x"),
], ids=["Client", "httpx.get", "Client-with-options"])
def test_httpx_clients_send_through_http_transport_handle_request(monkeypatch, make):
    """httpx: without ``transport=``, every Client sends through ``HTTPTransport.handle_request``."""
    def probe(self, request):
        assert isinstance(self, httpx.HTTPTransport) and isinstance(request, httpx.Request)
        raise _Seen

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", probe)
    with pytest.raises(_Seen):
        make()


def test_httpx_async_client_sends_through_async_http_transport(monkeypatch):
    async def probe(self, request):
        raise _Seen

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", probe)

    async def main():
        async with httpx.AsyncClient() as c:
            await c.get("https://api.layer.com/apps/x")

    with pytest.raises(_Seen):
        asyncio.run(main())


def test_aiohttp_session_middlewares_and_request_session():
    """aiohttp: ``ClientSession(middlewares=...)`` exists, middlewares get ``(request, handler)``
    with ``request.session``, and a per-request ``middlewares=()`` switches them off."""
    assert "middlewares" in inspect.signature(aiohttp.ClientSession.__init__).parameters
    assert "middlewares" in inspect.signature(aiohttp.ClientSession._request).parameters
    seen = []

    async def mw(req, handler):
        seen.append((req.session is session, str(req.url)))
        raise _Seen

    async def main():
        nonlocal session
        async with aiohttp.ClientSession(middlewares=(mw,)) as session:
            with pytest.raises(_Seen):
                await session.get("http://api.layer.com/apps/x")
            with pytest.raises(aiohttp.ClientError):  # middlewares=() → straight to the connector
                await session.get("http://127.0.0.1:1/x", middlewares=())

    session = None
    asyncio.run(main())
    assert seen == [(True, "http://api.layer.com/apps/x")]


def test_aiohttp_built_response_behaves_like_a_real_one():
    """The one place relying on aiohttp internals (constructor keywords, ``_headers``): a built
    ClientResponse must read, decode, stream, raise and release like one from the network."""
    async def main():
        async with aiohttp.ClientSession() as session:
            req = aiohttp.ClientRequest("GET", aiohttp.client.URL("https://api.layer.com/apps/x"),
                                        session=session, loop=asyncio.get_running_loop())
            body = b'{"id": "not_found", "code": 102}'
            r = build_response(req, 404, {"content-type": "application/json; charset=utf-8",
                                          "content-length": str(len(body)), "x-a": "1"}, body)
            assert (r.status, r.reason, r.ok, str(r.url)) == (404, "Not Found", False, "https://api.layer.com/apps/x")
            assert r.headers["X-A"] == "1" and r.content_type == "application/json"
            assert (b"x-a", b"1") in r.raw_headers
            assert await r.json() == {"id": "not_found", "code": 102}
            assert await r.text() == body.decode() and await r.read() == body
            with pytest.raises(aiohttp.ClientResponseError) as info:
                r.raise_for_status()
            assert info.value.status == 404
            async with build_response(req, 200, {"content-type": "text/plain"}, b"abc") as r2:
                assert await r2.content.read() == b"abc"
            r3 = build_response(req, 204, {}, b"")
            assert await r3.read() == b"" and await r3.json(content_type=None) is None
            r3.release()

    asyncio.run(main())


def test_aiohttp_session_created_after_install_carries_the_middleware():
    async def main():
        with layer_migrate.install("3.0"):
            async with aiohttp.ClientSession() as s:
                names = [m.__name__ for m in s._middlewares]
        async with aiohttp.ClientSession() as s2:  # after uninstall: a plain session
            return names, list(s2._middlewares)

    names, after = asyncio.run(main())
    assert names == ["layer_migrate_middleware"] and after == []
