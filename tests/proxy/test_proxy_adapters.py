"""The in-process faces (httpx transport sync/async, requests adapter) run the same v1 scenario
against the emulator at 3.0 and must answer exactly as the emulator at 1.1 does directly."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import requests
from proxy_scenario import STEPS, run
from test_proxy_differential import KNOWN

from layer_migrate.emulator import Emulator
from layer_migrate.proxy import AsyncMigratingTransport, MigratingAdapter, MigratingTransport


@pytest.fixture(scope="module")
def direct():
    with Emulator().running() as emu:
        client = httpx.Client(base_url=emu.url, timeout=10)

        def send(method, path, headers, body):
            r = client.request(method, path, headers=headers, content=body)
            return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

        return run(send)


def compare(direct, got):
    for name, *_ in STEPS:
        if name in KNOWN:
            a, b = direct[name], got[name]
            assert (a["status"], a["body"]["id"]) == (b["status"], b["body"]["id"]), name
            continue
        assert got[name] == direct[name], name


def test_httpx_transport_sync(direct):
    with Emulator().running() as emu:
        # the client addresses the "real" API host; upstream= pins where bytes go
        with httpx.Client(base_url="https://api.layer.com", timeout=10,
                          transport=MigratingTransport("3.0", upstream=emu.url)) as client:
            def send(method, path, headers, body):
                r = client.request(method, path, headers=headers, content=body)
                return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

            compare(direct, run(send))
        assert any(i["user_id"].startswith("bot-") for i in emu.store.identities())


def test_httpx_transport_async(direct):
    with Emulator().running() as emu:
        async def main():
            async with httpx.AsyncClient(base_url=emu.url, timeout=10,
                                         transport=AsyncMigratingTransport("3.0")) as client:
                loop = asyncio.get_running_loop()
                results = {}

                def send(method, path, headers, body):
                    fut = asyncio.run_coroutine_threadsafe(
                        client.request(method, path, headers=headers, content=body), loop)
                    r = fut.result(20)
                    return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

                results.update(await loop.run_in_executor(None, run, send))
                return results

        compare(direct, asyncio.run(main()))


def test_requests_adapter(direct):
    with Emulator().running() as emu:
        session = requests.Session()
        session.mount("http://", MigratingAdapter("3.0"))

        def send(method, path, headers, body):
            r = session.request(method, emu.url + path, headers=headers, data=body, timeout=10)
            return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

        compare(direct, run(send))


def test_adapters_answer_upstream_down_as_layer_error():
    from layer_migrate.proxy.serving import free_port

    url = f"http://127.0.0.1:{free_port()}"
    h = {"accept": "application/vnd.layer+json; version=1.1"}
    with httpx.Client(transport=MigratingTransport("3.0", retries=0)) as c:
        r = c.get(url + "/apps/a/conversations/c", headers=h)
        assert r.status_code == 502 and r.json()["id"] == "service_unavailable"
    s = requests.Session()
    s.mount("http://", MigratingAdapter("3.0", retries=0))
    r = s.get(url + "/apps/a/conversations/c", headers=h)
    assert r.status_code == 502 and r.json()["id"] == "service_unavailable"
    r = s.post(url + "/apps/a/conversations", data=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request"
