"""1.0 and 1.1 bodies are identical (§1.9); lenient mode; INFERRED switches."""

from __future__ import annotations

import re

import httpx

from layer_migrate.emulator import Emulator

from .conftest import Api, cid, mid, text

_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


def _norm(text_: str) -> str:
    return _TIMES.sub("<t>", _IDS.sub("<id>", text_))


def _session(api: Api) -> list[tuple[int, str]]:
    out = []

    def rec(r: httpx.Response) -> httpx.Response:
        out.append((r.status_code, _norm(r.text)))
        return r

    conv = rec(api.post("/conversations", {"participants": ["a", "b"], "metadata": {"t": "x"}})).json()
    rec(api.post("/conversations", {"participants": ["a", "b"], "metadata": {"t": "y"}}))
    m = rec(api.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()})).json()
    rec(api.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "Bot"}, "parts": text()}))
    rec(api.get(f"/conversations/{cid(conv)}/messages"))
    rec(api.get("/users/b/conversations"))
    rec(api.post(f"/users/b/messages/{mid(m)}/receipts", {"type": "read"}))
    rec(api.get(f"/users/b/messages/{mid(m)}"))
    rec(api.post("/users/a/identity", {"display_name": "A"}))
    rec(api.get("/users/a/identity"))
    rec(api.post("/users/a/blocks", {"user_id": "z"}))
    rec(api.get("/users/a/blocks"))
    rec(api.get("/users/a"))
    rec(api.post("/announcements", {"recipients": ["a"], "sender": {"name": "S"}, "parts": text()}))
    rec(api.delete(f"/conversations/{cid(conv)}"))
    rec(api.get(f"/conversations/{cid(conv)}"))
    return out


def test_1_0_and_1_1_identical():
    results = []
    for version in ("1.0", "1.1"):
        emu = Emulator()
        with emu.running(), httpx.Client(base_url=emu.url) as c:
            results.append(_session(Api(emu, version, c)))
        emu.close()
    assert results[0] == results[1]
    assert [s for s, _ in results[0]] == [201, 409, 201, 201, 200, 200, 204, 200, 201, 200, 204, 200, 200, 202, 204, 410]


def test_lenient_patch_content_type(lenient3):
    conv = lenient3.conversation(["a"])
    r = lenient3.patch(f"/conversations/{cid(conv)}", [{"operation": "set", "property": "metadata.a", "value": "1"}],
                       content_type="application/json")
    assert r.status_code == 204


def test_lenient_still_needs_sender_id(lenient3):
    conv = lenient3.conversation(["a"])
    r = lenient3.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()})
    assert r.status_code == 422 and r.json()["data"]["property"] == "sender_id"
    lenient3.identity("a")
    r = lenient3.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "a", "parts": text(),
                                                              "notification": {"text": "x", "recipients": {"a": {"text": "y"}}}})
    assert r.status_code == 201, r.text


def test_distinct_default_switch():
    emu = Emulator(distinct_default=False)
    with emu.running(), httpx.Client(base_url=emu.url) as c:
        api = Api(emu, "1.0", c)
        assert api.conversation(["a", "b"])["distinct"] is False
        assert api.post("/conversations", {"participants": ["a", "b"]}).status_code == 201
    emu.close()


def test_base_url_switch():
    emu = Emulator(base_url="http://127.0.0.1:9")
    with emu.running(), httpx.Client(base_url=emu.url) as c:
        conv = Api(emu, "1.0", c).conversation(["a"])
        assert conv["url"].startswith("http://127.0.0.1:9/apps/")
    emu.close()


def test_max_participants(v1):
    r = v1.post("/conversations", {"participants": [f"u{i}" for i in range(26)]})
    assert r.status_code == 422 and r.json()["data"]["property"] == "participants"


def test_optional_switches():
    emu = Emulator(enforce_blocks=False, distinct_location=True, system_unread_fields="strip")
    with emu.running(), httpx.Client(base_url=emu.url) as c:
        api = Api(emu, "1.0", c)
        conv = api.conversation(["a", "b"])
        again = api.post("/conversations", {"participants": ["a", "b"]})
        assert again.status_code == 200 and again.headers["location"] == f"/apps/{emu.app_id}/conversations/{cid(conv)}"
        api.post("/users/a/blocks", {"user_id": "c"})
        assert api.post("/conversations", {"participants": ["a", "c"]}).status_code == 201
        m = api.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()}).json()
        assert "is_unread" not in m and "received_at" not in m
        assert api.get(f"/users/b/messages/{mid(m)}").json()["is_unread"] is True
    emu.close()
