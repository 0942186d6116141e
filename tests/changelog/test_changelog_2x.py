"""Conformance tests for the 2.0 and 3.0 release notes and the 2017-09-28 line (message updating
at 2.0), named after their release or date (docs/changelog-conformance.md)."""

from __future__ import annotations

from typing import Any

from emulator.conftest import cid, mid, text
from emulator.test_webhooks import Receiver, register

ME = "layer:///identities/"


def test_release_2_0_accept_header_required(at: Any) -> None:
    api = at(None, version="2.0")
    assert api.conversation(["a", "b"])["participants"][0]["id"] == ME + "a"
    r = api.client.get(api.emu.path("/users/a"), headers={"Authorization": f"Bearer {api.emu.token}",
                                                          "Accept": "application/vnd.layer+json; version=2.5"})
    assert r.status_code == 406 and r.json()["id"] == "invalid_header"


def test_release_2_0_participants_identity_ids(at: Any) -> None:
    api = at(None, version="2.0")
    r = api.post("/conversations", {"participants": ["a", "b"]})
    assert r.status_code == 422 and r.json()["data"]["property"] == "participants"
    conv = api.post("/conversations", {"participants": [ME + "a", ME + "b"]}).json()
    assert [p["user_id"] for p in conv["participants"]] == ["a", "b"]
    assert set(conv["participants"][0]) == {"id", "url", "user_id", "display_name", "avatar_url"}
    r = api.patch(f"/conversations/{cid(conv)}", [{"operation": "add", "property": "participants", "id": ME + "c"}])
    assert r.status_code == 204
    r = api.patch(f"/conversations/{cid(conv)}", [{"operation": "add", "property": "participants", "value": "d"}])
    assert r.status_code == 422


def test_release_2_0_sender_id_and_basic_identity(at: Any) -> None:
    api = at(None, version="2.0")
    api.identity("bot", "Bot")
    conv = api.conversation(["a", "b"])
    r = api.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "Bot"}, "parts": text()})
    assert r.status_code == 422 and r.json()["data"]["property"] == "sender_id"
    m = api.post(f"/conversations/{cid(conv)}/messages", {"sender_id": ME + "bot", "parts": text()}).json()
    assert m["sender"]["id"] == ME + "bot" and m["sender"]["display_name"] == "Bot"
    assert m["recipient_status"] == {ME + "a": "sent", ME + "b": "sent"}


def test_release_2_0_notification_recipient(at: Any) -> None:
    api = at(None, version="2.0")
    ok = {"recipients": [ME + "a"], "notification": {"text": "x", "recipients": [{"recipient": ME + "a", "text": "y"}]}}
    assert api.post("/notifications", ok).status_code == 202
    assert api.emu.store.notifications()[-1]["overrides"] == {"a": {"text": "y"}}
    bad = {"recipients": [ME + "a"], "notification": {"text": "x", "recipients": [{"user_id": "a", "text": "y"}]}}
    assert api.post("/notifications", bad).status_code == 422
    assert api.post("/notifications", {"recipients": ["a"], "notification": {"text": "x"}}).status_code == 422


def test_release_2_0_blocking_api(at: Any) -> None:
    api = at(None, version="2.0")
    api.conversation(["a", "b"])
    assert api.post("/users/a/blocks", {"user_id": "b"}).status_code == 405
    assert api.delete("/users/a/blocks/b").status_code == 405
    assert api.patch("/users/a", [{"operation": "add", "property": "blocks", "id": ME + "b"}]).status_code == 202
    assert [b["id"] for b in api.get("/users/a/blocks").json()] == [ME + "b"]


def test_release_2_0_identity_type_and_following(at: Any) -> None:
    api = at(None, version="2.0")
    assert api.post("/users/bot/identity", {"display_name": "Bot", "type": "Bot"}).status_code == 201
    assert api.get("/users/bot/identity").json()["identity_type"] == "bot"
    api.identity("a", "A")
    assert api.put(f"/users/a/following/{'bot'}").status_code == 204
    assert api.get("/users/a/following").json() == [ME + "bot"]
    assert at(None, version="1.0").post("/users/x/identity", {"display_name": "X", "type": "Bot"}).status_code == 422


def test_2017_09_28_message_updating_2_0(at: Any) -> None:
    def run(when: str) -> tuple[Any, Any]:
        api = at(when, version="2.0")
        conv = api.conversation(["a", "b"])
        m = api.post(f"/conversations/{cid(conv)}/messages", {"sender_id": ME + "a", "parts": text("old")}).json()
        return api, (conv, m)

    old, (conv, m) = run("2017-09-27")
    assert "updated_at" not in m
    r = old.put(f"/conversations/{cid(conv)}/messages/{mid(m)}/parts/0", {"mime_type": "text/plain", "body": "new"})
    assert r.status_code == 404 and r.json()["id"] == "invalid_endpoint"

    new, (conv, m) = run("2017-09-28")
    receiver = Receiver()
    try:
        register(new.emu, new.client, "2.0", receiver.url, ["Message.updated"])
        assert "updated_at" not in m  # shown once the message was updated (INFERRED)
        base = f"/conversations/{cid(conv)}/messages/{mid(m)}/parts"
        r = new.put(f"{base}/0", {"mime_type": "text/plain", "body": "new"})
        assert r.status_code == 200 and r.json()["body"] == "new" and r.json()["id"].endswith("/parts/0")
        got = new.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").json()
        assert got["parts"][0]["body"] == "new" and got["updated_at"] > got["sent_at"]
        assert new.post(base, {"mime_type": "text/plain", "body": "more"}).status_code == 201
        new.emu.wait_for(lambda: len(receiver.posts("Message.updated")) >= 2)
        import orjson
        body = orjson.loads(receiver.posts("Message.updated")[0]["raw"])
        assert body["message"]["id"] == m["id"] and body["message"]["parts"][0]["body"] == "new"
    finally:
        receiver.close()


def test_release_3_0_message_part_full_citizen(at: Any) -> None:
    api = at(None, version="3.0")
    conv = api.conversation(["a", "b"])
    m = api.post(f"/conversations/{cid(conv)}/messages", {"sender_id": ME + "a", "parts": text("x")}).json()
    pid = m["parts"][0]["id"]
    assert pid.startswith(f"layer:///messages/{mid(m)}/parts/") and len(pid.rsplit("/", 1)[1]) == 36
    base = f"/conversations/{cid(conv)}/messages/{mid(m)}/parts"
    r = api.put(f"{base}/{pid.rsplit('/', 1)[1]}", {"mime_type": "text/plain", "body": "y"})
    assert r.status_code == 200 and r.json()["id"] == pid and r.json()["updated_at"]
    assert api.get(base).json()[0]["body"] == "y"
