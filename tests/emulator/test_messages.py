"""Messages (spec §5), parts (§5.4) and notifications (§7) in every version."""

from __future__ import annotations

import base64
import re
import uuid

import pytest

from .conftest import cid, mid, text

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
V1_MSG = {"id", "url", "conversation", "parts", "sent_at", "sender", "recipient_status", "is_unread", "received_at"}


def test_v1_send_user_sender_shape(v1):
    conv = v1.conversation(["user1", "999", "111"])
    r = v1.post(f"/conversations/{cid(conv)}/messages",
                {"sender": {"user_id": "user1"}, "parts": text("Hi"), "notification": {"text": "Hi", "sound": "chime.aiff"}})
    assert r.status_code == 201
    msg = r.json()
    assert set(msg) == V1_MSG
    assert msg["url"] == f"https://api.layer.com/apps/{v1.emu.app_id}/messages/{mid(msg)}"
    assert msg["conversation"] == {"id": conv["id"], "url": conv["url"]}
    assert msg["sender"] == {"user_id": "user1", "name": None}
    assert msg["recipient_status"] == {"user1": "read", "999": "sent", "111": "sent"}
    assert msg["parts"] == [{"id": f"layer:///messages/{mid(msg)}/parts/0", "mime_type": "text/plain", "body": "Hi"}]
    assert msg["is_unread"] is None and msg["received_at"] is None


def test_v1_send_name_sender(v1, v3):
    conv = v1.conversation(["a", "b"])
    r = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "t-bone"}, "parts": text()})
    assert r.status_code == 201
    msg = r.json()
    assert msg["sender"] == {"user_id": None, "name": "t-bone"}
    assert msg["recipient_status"] == {"a": "sent", "b": "sent"}
    got3 = v3.get(f"/conversations/{cid(conv)}/messages/{mid(msg)}").json()
    assert got3["sender"] == {"id": None, "url": None, "user_id": None, "display_name": "t-bone", "avatar_url": None}
    assert got3["recipient_status"] == {"layer:///identities/a": "sent", "layer:///identities/b": "sent"}


@pytest.mark.parametrize(("body", "status", "error", "prop"), [
    ({"parts": [{"body": "x", "mime_type": "text/plain"}]}, 422, "missing_property", "sender"),
    ({"sender": {"user_id": "a", "name": "Bot"}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, 422, "invalid_property", "sender"),
    ({"sender": {}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, 422, "missing_property", "sender"),
    ({"sender": {"user_id": "a"}}, 422, "missing_property", "parts"),
    ({"sender": {"user_id": "a"}, "parts": []}, 422, "invalid_property", "parts"),
    ({"sender": {"user_id": "a"}, "parts": [{"body": "x"}]}, 422, "missing_property", "mime_type"),
    ({"sender": {"user_id": "a"}, "parts": [{"body": 5, "mime_type": "text/plain"}]}, 422, "invalid_property", "parts[0].body"),
    ({"sender": {"user_id": "a"}, "parts": ["x"]}, 422, "invalid_property", "parts[0]"),
    ({"sender": {"user_id": "a"}, "sender_id": "layer:///identities/a", "parts": [{"body": "x", "mime_type": "text/plain"}]}, 422, "invalid_property", "sender_id"),
])
def test_v1_send_errors(v1, body, status, error, prop):
    conv = v1.conversation(["a", "b"])
    r = v1.post(f"/conversations/{cid(conv)}/messages", body)
    assert r.status_code == status, r.text
    assert r.json()["id"] == error and r.json()["data"]["property"] == prop


def test_v1_missing_sender_message_text(v1):
    conv = v1.conversation(["a", "b"])
    r = v1.post(f"/conversations/{cid(conv)}/messages", {"parts": text()})
    assert r.json()["message"] == "Object is missing required member 'sender'"


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_v3_send_shape(v3, version):
    v3.identity("user1", "User One")
    api = v3.at(version)
    conv = api.conversation(["user1", "user2"])
    r = api.post(f"/conversations/{cid(conv)}/messages",
                 {"sender_id": "layer:///identities/user1", "parts": text(),
                  "notification": {"text": "Hi", "recipients": [{"recipient": "layer:///identities/user2", "text": "Yo"}]}})
    assert r.status_code == 201, r.text
    msg = r.json()
    assert msg["sender"]["id"] == "layer:///identities/user1" and msg["sender"]["display_name"] == "User One"
    assert msg["recipient_status"] == {"layer:///identities/user1": "read", "layer:///identities/user2": "sent"}
    part = msg["parts"][0]
    if version == "3.0":
        assert re.fullmatch(rf"layer:///messages/{mid(msg)}/parts/{UUID}", part["id"])
        assert {"updated_at", "url", "message_url"} <= set(part)
        assert {"updated_at", "position", "receipts_url"} <= set(msg)
    else:
        assert part["id"] == f"layer:///messages/{mid(msg)}/parts/0"
        assert "updated_at" not in part and "position" not in msg
    note = v3.emu.store.notifications()[-1]
    assert note["overrides"] == {"user2": {"text": "Yo"}} and note["recipients"] == ["user2"]


@pytest.mark.parametrize(("body", "error", "prop"), [
    ({"sender": {"user_id": "user1"}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, "missing_property", "sender_id"),
    ({"sender_id": "user1", "parts": [{"body": "x", "mime_type": "text/plain"}]}, "invalid_property", "sender_id"),
    ({"sender_id": "layer:///identities/nobody", "parts": [{"body": "x", "mime_type": "text/plain"}]}, "invalid_property", "sender_id"),
    ({"sender_id": "layer:///identities/user1", "parts": [{"body": "x", "mime_type": "text/plain"}],
      "notification": {"text": "x", "recipients": {"user2": {"text": "y"}}}}, "invalid_property", "notification"),
    ({"sender_id": "layer:///identities/user1", "parts": [{"body": "x", "mime_type": "text/plain"}],
      "notification": {"text": "x", "recipients": [{"user_id": "user2", "text": "y"}]}}, "invalid_property", "notification"),
])
def test_v3_strict_rejects_v1_shapes(v3, body, error, prop):
    v3.identity("user1")
    conv = v3.conversation(["user1", "user2"])
    r = v3.post(f"/conversations/{cid(conv)}/messages", body)
    assert r.status_code == 422, r.text
    assert r.json()["id"] == error and r.json()["data"]["property"] == prop


def test_v3_missing_sender_id_message(v3):
    conv = v3.conversation(["a"])
    r = v3.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "Bot"}, "parts": text()})
    assert r.json()["message"] == "Object is missing required member 'sender_id'"


def test_bot_sender_need_not_be_participant(v3):
    v3.identity("bot-support", "Support", identity_type="bot")
    conv = v3.conversation(["a", "b"])
    r = v3.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/bot-support", "parts": text()})
    assert r.status_code == 201
    assert r.json()["recipient_status"] == {"layer:///identities/a": "sent", "layer:///identities/b": "sent"}


def test_v1_notification_shapes(v1):
    conv = v1.conversation(["a", "klaus_stube", "luigi_puccini"])
    map_form = {"text": "default", "sound": "a.aiff",
                "recipients": {"klaus_stube": {"text": "hallo welt", "sound": "ping.aiff"},
                               "luigi_puccini": {"text": "ciao mondo"}}}
    array_form = {"text": "default", "recipients": [{"user_id": "klaus_stube", "text": "hallo welt", "sound": "ping.aiff"},
                                                    {"user_id": "luigi_puccini", "title": "New Message", "text": "ciao mondo"}]}
    for note in (map_form, array_form):
        r = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text(), "notification": note})
        assert r.status_code == 201, r.text
    stored = v1.emu.store.notifications()
    assert stored[0]["overrides"]["klaus_stube"] == {"text": "hallo welt", "sound": "ping.aiff"}
    assert stored[1]["overrides"]["luigi_puccini"] == {"title": "New Message", "text": "ciao mondo"}
    assert stored[0]["notification"] == {"text": "default", "sound": "a.aiff"}
    r = v1.post(f"/conversations/{cid(conv)}/messages",
                {"sender": {"user_id": "a"}, "parts": text(), "notification": {"text": 5}})
    assert r.status_code == 422 and r.json()["data"]["property"] == "notification"


def test_base64_and_inline_limit(v1):
    conv = v1.conversation(["a", "b"])
    url = f"/conversations/{cid(conv)}/messages"
    enc = base64.b64encode(b"any carnal pleasure").decode()
    r = v1.post(url, {"sender": {"user_id": "a"}, "parts": [{"body": enc, "encoding": "base64", "mime_type": "image/jpeg"}]})
    assert r.status_code == 201
    assert r.json()["parts"][0] == {"id": f"layer:///messages/{mid(r.json())}/parts/0", "mime_type": "image/jpeg",
                                    "body": enc, "encoding": "base64"}
    bad = v1.post(url, {"sender": {"user_id": "a"}, "parts": [{"body": "!!notbase64!!", "encoding": "base64", "mime_type": "image/png"}]})
    assert bad.status_code == 422 and bad.json()["data"] == {"property": "parts[0].body"}
    assert bad.json()["message"] == "Message part 0 is declared base64 but its body is not valid base64"
    ok_2k = base64.b64encode(b"x" * 2048).decode()
    assert v1.post(url, {"sender": {"user_id": "a"}, "parts": [{"body": ok_2k, "encoding": "base64", "mime_type": "a/b"}]}).status_code == 201
    too_big = base64.b64encode(b"x" * 2049).decode()
    r = v1.post(url, {"sender": {"user_id": "a"}, "parts": [{"body": too_big, "encoding": "base64", "mime_type": "a/b"}]})
    assert r.status_code == 422 and "2048" in r.json()["message"]
    r = v1.post(url, {"sender": {"user_id": "a"}, "parts": [{"body": "é" * 1025, "mime_type": "text/plain"}]})
    assert r.status_code == 422
    r = v1.post(url, {"sender": {"user_id": "a"}, "parts": [{"body": "x", "mime_type": "text/plain", "content": {"id": "x", "size": 1}}]})
    assert r.status_code == 422 and r.json()["message"] == "Message part 0 has both 'body' and 'content'"


def test_list_get_system_and_user_perspective(v1, v3):
    conv = v1.conversation(["a", "b"])
    m = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()}).json()
    got = v1.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").json()
    assert got["url"] == f"{conv['url']}/messages/{mid(m)}"
    assert got["recipient_status"] == {"a": "read", "b": "sent"} and got["is_unread"] is None
    listed = v1.get(f"/conversations/{cid(conv)}/messages").json()
    assert [x["id"] for x in listed] == [m["id"]]
    ub = v1.get(f"/users/b/conversations/{cid(conv)}/messages").json()[0]
    assert ub["is_unread"] is True and ub["received_at"] is not None
    assert ub["url"].endswith(f"/users/b/messages/{mid(m)}")
    assert v1.get(f"/users/a/messages/{mid(m)}").json()["is_unread"] is False
    assert v1.get(f"/users/zz/messages/{mid(m)}").status_code == 404
    v1.conversation(["c"])
    assert v1.get(f"/users/c/messages/{mid(m)}").status_code == 404
    assert v1.get(f"/conversations/{cid(conv)}/messages/{uuid.uuid4()}").json()["message"] == \
        "A Message with the specified identifier could not be found."
    got3 = v3.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").json()
    assert got3["position"] == v3.get(f"/users/a/conversations/{cid(conv)}").json()["last_message"]["position"]


def test_delete_message(v1):
    conv = v1.conversation(["a", "b"])
    m = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()}).json()
    assert v1.delete(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 204
    r = v1.delete(f"/conversations/{cid(conv)}/messages/{mid(m)}")
    assert r.status_code == 404 and r.json()["code"] == 102
    assert v1.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 404
    assert v1.get(f"/conversations/{cid(conv)}/messages").json() == []


def test_receipts_and_mark_all_read(v1, v3):
    conv = v1.conversation(["a", "b"])
    url = f"/conversations/{cid(conv)}/messages"
    m1 = v1.post(url, {"sender": {"user_id": "a"}, "parts": text()}).json()
    m2 = v1.post(url, {"sender": {"user_id": "a"}, "parts": text()}).json()
    assert v1.post(f"/users/b/messages/{mid(m1)}/receipts", {"type": "delivery"}).status_code == 204
    assert v1.get(f"{url}/{mid(m1)}").json()["recipient_status"]["b"] == "delivered"
    assert v1.post(f"/users/b/messages/{mid(m1)}/receipts", {"type": "read"}).status_code == 204
    assert v1.post(f"/users/b/messages/{mid(m1)}/receipts", {"type": "delivery"}).status_code == 204
    assert v1.get(f"{url}/{mid(m1)}").json()["recipient_status"]["b"] == "read"
    assert v1.post(f"/users/b/messages/{mid(m1)}/receipts", {"type": "seen"}).status_code == 422
    assert v1.post(f"/users/b/messages/{mid(m1)}/receipts", {}).status_code == 422
    assert v1.get(f"/users/b/conversations/{cid(conv)}").json()["unread_message_count"] == 1
    assert v1.post(f"/users/b/conversations/{cid(conv)}/mark_all_read").json()["id"] == "invalid_endpoint"
    assert v3.post(f"/users/b/conversations/{cid(conv)}/mark_all_read").status_code == 204
    assert v1.get(f"{url}/{mid(m2)}").json()["recipient_status"]["b"] == "read"
    assert v1.get("/users/b/badge").json()["unread_message_count"] == 0


def test_suspended_sender(v1, v3):
    conv = v1.conversation(["a", "b"])
    assert v1.patch("/users/a", [{"operation": "set", "property": "suspended", "value": True}]).status_code == 202
    r = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()})
    assert r.status_code == 403 and r.json()["id"] == "user_suspended" and r.json()["code"] == 6
    assert v1.get("/users/a").json()["suspended"] is True


def test_delayed_and_batch(v1, v3):
    v3.identity("bot")
    conv = v1.conversation(["a", "b"])
    url = f"/conversations/{cid(conv)}/messages"
    r = v1.post(url, {"sender": {"name": "nicebot"}, "parts": text(), "schedule": {"delay_in_seconds": 5.0, "typing_indicator_in_seconds": 3.0}})
    assert r.status_code == 202 and r.json()["sender"]["name"] == "nicebot"
    bad = v1.post(url, {"sender": {"name": "nicebot"}, "parts": text(), "schedule": {"delay_in_seconds": 500}})
    assert bad.status_code == 422 and bad.json()["data"]["property"] == "schedule"
    batch = [{"sender_id": "layer:///identities/bot", "parts": text(str(i))} for i in range(3)]
    r = v3.post(url, batch)
    assert r.status_code == 202 and [m["parts"][0]["body"] for m in r.json()] == ["0", "1", "2"]
    assert v3.post(url, []).status_code == 400
    assert v1.post(url, [{"sender": {"user_id": "a"}, "parts": text()}]).status_code == 400
    # all-or-nothing: one bad element stores nothing
    before = len(v1.emu.store.messages())
    assert v3.post(url, batch + [{"sender_id": "layer:///identities/bot"}]).status_code == 422
    assert len(v1.emu.store.messages()) == before


def test_v3_client_part_ids_and_part_endpoints(v3):
    v3.identity("a")
    conv = v3.conversation(["a", "b"])
    pid = str(uuid.uuid4())
    m = v3.post(f"/conversations/{cid(conv)}/messages",
                {"sender_id": "layer:///identities/a", "parts": [{"id": pid, "body": "one", "mime_type": "text/plain"}]})
    assert m.status_code == 201
    msg = m.json()
    assert msg["parts"][0]["id"] == f"layer:///messages/{mid(msg)}/parts/{pid}"
    base = f"/conversations/{cid(conv)}/messages/{mid(msg)}/parts"
    assert v3.get(base).json()[0]["body"] == "one"
    assert v3.get(f"{base}/{pid}").json()["id"].endswith(pid)
    created = v3.post(base, {"body": "two", "mime_type": "text/plain"})
    assert created.status_code == 201 and created.json()["body"] == "two"
    pid2 = created.json()["id"].rsplit("/", 1)[-1]
    upd = v3.put(f"{base}/{pid2}", {"body": "TWO", "mime_type": "text/plain"})
    assert upd.status_code == 200 and upd.json()["body"] == "TWO"
    assert v3.delete(f"{base}/{pid}").status_code == 204
    assert v3.get(f"{base}/{pid}").status_code == 404
    assert v3.delete(f"{base}/{pid2}").status_code == 422  # the last part stays
    replaced = v3.put(base, [{"body": "x", "mime_type": "text/plain"}, {"body": "y", "mime_type": "text/plain"}])
    assert replaced.status_code == 200 and [p["body"] for p in replaced.json()] == ["x", "y"]
    assert v3.at("2.0").get(base).status_code == 200  # 2.0 gained message updating on 2017-09-28 (changelog)
    dup = v3.post(f"/conversations/{cid(conv)}/messages",
                  {"sender_id": "layer:///identities/a", "parts": [{"id": pid, "body": "1", "mime_type": "text/plain"},
                                                                     {"id": pid, "body": "2", "mime_type": "text/plain"}]})
    assert dup.status_code == 422
    assert v3.at("2.0").post(f"/conversations/{cid(conv)}/messages",
                             {"sender_id": "layer:///identities/a", "parts": [{"id": pid, "body": "1", "mime_type": "text/plain"}]}).status_code == 422
