"""Fixtures for the emulator's conformance tests: real servers on 127.0.0.1, real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from layer_migrate.emulator.testing import emulator, emulator_client, lenient_emulator  # noqa: F401

PATCH_CT = "application/vnd.layer-patch+json"


class Api:
    """A thin httpx wrapper speaking one version to one emulator."""

    def __init__(self, emu: Any, version: str, client: httpx.Client) -> None:
        self.emu, self.version, self.client = emu, version, client

    def at(self, version: str) -> Api:
        return Api(self.emu, version, self.client)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.emu.token}",
             "Accept": f"application/vnd.layer+json; version={self.version}"}
        h.update(extra or {})
        return h

    def request(self, method: str, suffix: str, *, json: Any = None, headers: dict[str, str] | None = None,
                content: bytes | None = None, params: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.request(method, self.emu.path(suffix), json=json, content=content, params=params,
                                   headers=self.headers(headers))

    def get(self, suffix: str, **kw: Any) -> httpx.Response:
        return self.request("GET", suffix, **kw)

    def post(self, suffix: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", suffix, json=body, **kw)

    def put(self, suffix: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", suffix, json=body, **kw)

    def delete(self, suffix: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", suffix, **kw)

    def patch(self, suffix: str, ops: Any, content_type: str = PATCH_CT, **kw: Any) -> httpx.Response:
        import orjson

        headers = {"Content-Type": content_type, **kw.pop("headers", {})}
        return self.request("PATCH", suffix, content=orjson.dumps(ops), headers=headers, **kw)

    # conveniences -------------------------------------------------------------------------
    def conversation(self, participants: list[str], **body: Any) -> dict[str, Any]:
        if self.version in ("2.0", "3.0"):
            participants = [p if p.startswith("layer:///") else f"layer:///identities/{p}" for p in participants]
        r = self.post("/conversations", {"participants": participants, **body})
        assert r.status_code in (200, 201), r.text
        return r.json()

    def identity(self, user_id: str, display_name: str | None = None, **body: Any) -> None:
        r = self.at("3.0").post(f"/users/{user_id}/identity", {"display_name": display_name or user_id.title(), **body})
        assert r.status_code == 201, r.text


def cid(conv: dict[str, Any]) -> str:
    return conv["id"].rsplit("/", 1)[-1]


def mid(msg: dict[str, Any]) -> str:
    return msg["id"].rsplit("/", 1)[-1]


def text(body: str = "Hi") -> list[dict[str, str]]:
    return [{"body": body, "mime_type": "text/plain"}]


@pytest.fixture
def http(emulator: Any) -> httpx.Client:  # noqa: F811
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


@pytest.fixture
def v1(emulator: Any, http: httpx.Client) -> Api:  # noqa: F811
    return Api(emulator, "1.0", http)


@pytest.fixture
def v11(emulator: Any, http: httpx.Client) -> Api:  # noqa: F811
    return Api(emulator, "1.1", http)


@pytest.fixture
def v2(emulator: Any, http: httpx.Client) -> Api:  # noqa: F811
    return Api(emulator, "2.0", http)


@pytest.fixture
def v3(emulator: Any, http: httpx.Client) -> Api:  # noqa: F811
    return Api(emulator, "3.0", http)


@pytest.fixture
def lenient3(lenient_emulator: Any) -> Api:  # noqa: F811
    with httpx.Client(base_url=lenient_emulator.url, timeout=10) as client:
        yield Api(lenient_emulator, "3.0", client)
