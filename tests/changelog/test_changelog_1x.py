"""One conformance test per dated 1.x line of the change log (docs/changelog-conformance.md),
each at a date before and after the change (``Emulator(as_of=…)``)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import httpx
import orjson
import pytest
from emulator.conftest import PATCH_CT, cid, mid, text
from emulator.test_webhooks import Receiver, register

from layer_migrate.emulator import Emulator
from layer_migrate.emulator.testing import TEST_OPTIONS

BEFORE_LAUNCH = "2015-06-03"


def _msg(api: Any, conv: dict[str, Any], sender: str = "a", **extra: Any) -> Any:
    return api.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": sender}, "parts": text(), **extra})


# -- 2015-06-04 launch ----------------------------------------------------------------------

def test_2015_06_04_launch_announcements(at: Any) -> None:
    with pytest.raises(ValueError, match="before the Platform API launched"):
        Emulator(as_of=date.fromisoformat(BEFORE_LAUNCH))
    api = at("2015-06-04")
    api.conversation(["a", "b"])
    r = api.post("/announcements", {"recipients": ["a"], "sender": {"name": "Ops"}, "parts": text()})
    assert r.status_code == 202 and r.json()["recipients"] == ["a"]


def test_2015_06_04_launch_blocking_policy(at: Any) -> None:
    api = at("2015-06-04")
    api.conversation(["a", "b"])
    assert api.post("/users/a/blocks", {"user_id": "b"}).status_code == 204
    assert api.get("/users/a/blocks").json() == [{"user_id": "b"}]
    assert api.delete("/users/a/blocks/b").status_code == 204


def test_2015_06_05_patch_participants(at: Any) -> None:
    op = [{"operation": "add", "property": "participants", "value": "c"}]
    old = at("2015-06-04")
    conv = old.conversation(["a", "b"])
    r = old.patch(f"/conversations/{cid(conv)}", op)
    assert r.status_code == 422 and r.json()["data"]["property"] == "participants"
    new = at("2015-06-05")
    conv = new.conversation(["a", "b"])
    assert new.patch(f"/conversations/{cid(conv)}", op).status_code == 204
    assert new.get(f"/conversations/{cid(conv)}").json()["participants"] == ["a", "b", "c"]


def test_2015_06_17_distinct_conversations_with_metadata(at: Any) -> None:
    body = {"participants": ["a", "b"], "distinct": True, "metadata": {"title": "x"}}
    r = at("2015-06-16").post("/conversations", body)
    assert r.status_code == 422 and r.json()["data"]["property"] == "metadata"
    assert at("2015-06-17").post("/conversations", body).status_code == 201
    # a non-distinct conversation with metadata was always fine
    assert at("2015-06-16").post("/conversations", dict(body, distinct=False)).status_code == 201


def test_2015_06_17_everyone_must_be_explicit(at: Any) -> None:
    body = {"sender": {"name": "Ops"}, "parts": text()}
    old = at("2015-06-16")
    old.conversation(["a", "b"])
    r = old.post("/announcements", body)
    assert r.status_code == 202 and sorted(r.json()["recipients"]) == ["a", "b"]
    new = at("2015-06-17")
    new.conversation(["a", "b"])
    r = new.post("/announcements", body)
    assert r.status_code == 422 and r.json()["data"]["property"] == "recipients"
    r = new.post("/announcements", dict(body, recipients="everyone"))
    assert r.status_code == 202 and sorted(r.json()["recipients"]) == ["a", "b"]


def test_2015_06_23_patch_metadata(at: Any) -> None:
    op = [{"operation": "set", "property": "metadata.title", "value": "Tea"}]
    old = at("2015-06-22")
    conv = old.conversation(["a", "b"], distinct=False)
    r = old.patch(f"/conversations/{cid(conv)}", op)
    assert r.status_code == 422 and r.json()["data"]["property"] == "metadata"
    new = at("2015-06-23")
    conv = new.conversation(["a", "b"], distinct=False)
    assert new.patch(f"/conversations/{cid(conv)}", op).status_code == 204
    assert new.get(f"/conversations/{cid(conv)}").json()["metadata"] == {"title": "Tea"}


def test_2015_07_09_method_not_allowed(at: Any) -> None:
    r = at("2015-07-08").put("/conversations", {})
    assert r.status_code == 404 and r.json()["id"] == "invalid_endpoint"
    r = at("2015-07-09").put("/conversations", {})
    assert r.status_code == 405 and r.json()["id"] == "method_not_allowed" and "POST" in r.headers["allow"]


def test_2015_07_10_sender_name_and_user_id(at: Any) -> None:
    both = {"sender": {"user_id": "a", "name": "Bot"}, "parts": text()}
    old = at("2015-07-09")
    conv = old.conversation(["a", "b"])
    r = old.post(f"/conversations/{cid(conv)}/messages", both)
    assert r.status_code == 201 and r.json()["sender"] == {"user_id": "a"}  # nulls omitted then
    new = at("2015-07-10")
    conv = new.conversation(["a", "b"])
    r = new.post(f"/conversations/{cid(conv)}/messages", both)
    assert r.status_code == 422 and r.json()["id"] == "invalid_property"


def test_2015_08_02_url_in_error_responses(at: Any) -> None:
    old = at("2015-08-01").post("/conversations", {}).json()
    assert old["id"] == "missing_property" and "url" not in old
    new = at("2015-08-02").post("/conversations", {}).json()
    assert new["url"].startswith("https://")


def test_2015_08_02_invalid_base64_graceful(at: Any) -> None:
    bad = {"sender": {"user_id": "a"}, "parts": [{"mime_type": "image/png", "body": "!!notb64", "encoding": "base64"}]}
    old = at("2015-08-01")
    conv = old.conversation(["a", "b"])
    r = old.post(f"/conversations/{cid(conv)}/messages", bad)
    assert r.status_code == 503 and r.json()["id"] == "service_unavailable"  # internal errors were 503 then
    new = at("2015-08-02")
    conv = new.conversation(["a", "b"])
    r = new.post(f"/conversations/{cid(conv)}/messages", bad)
    assert r.status_code == 422 and r.json()["data"]["property"] == "parts[0].body"


def test_2015_08_02_conversation_with_metadata_and_no_participants(at: Any) -> None:
    body = {"metadata": {"title": "x"}}
    r = at("2015-08-01").post("/conversations", body)
    assert r.status_code == 503
    r = at("2015-08-02").post("/conversations", body)
    assert r.status_code == 422 and r.json()["data"]["property"] == "participants"


def test_2015_08_21_internal_errors_500(at: Any) -> None:
    old = at("2015-08-20", faults={"internal_error"})
    r = old.get("/conversations/00000000-0000-4000-8000-000000000001")
    assert r.status_code == 503 and r.json()["id"] == "service_unavailable"
    new = at("2015-08-21", faults={"internal_error"})
    r = new.get("/conversations/00000000-0000-4000-8000-000000000001")
    assert r.status_code == 500 and r.json()["id"] == "internal_server_error"
    assert "Traceback" not in r.text


def test_2015_08_21_inline_part_over_2kb(at: Any) -> None:
    big = {"sender": {"user_id": "a"}, "parts": [{"mime_type": "text/plain", "body": "x" * 2049}]}
    old = at("2015-08-20")
    conv = old.conversation(["a", "b"])
    assert old.post(f"/conversations/{cid(conv)}/messages", big).status_code == 201
    new = at("2015-08-21")
    conv = new.conversation(["a", "b"])
    r = new.post(f"/conversations/{cid(conv)}/messages", big)
    assert r.status_code == 422 and r.json()["data"]["property"] == "parts[0].body"


def test_2015_08_21_announcement_enqueue_503(at: Any) -> None:
    body = {"recipients": ["a"], "sender": {"name": "Ops"}, "parts": text()}
    new = at(None, faults={"announcement_enqueue"})
    r = new.post("/announcements", body)
    assert r.status_code == 503 and r.json()["id"] == "service_unavailable"
    assert new.emu.store.announcements() == []
    # the test-only admin switch turns it off again (bearer token required)
    h = {"Authorization": f"Bearer {new.emu.token}"}
    assert new.client.put("/_emulator/faults", content=b"[]").status_code == 401
    assert new.client.put("/_emulator/faults", content=b"[]", headers=h).json() == []
    assert new.post("/announcements", body).status_code == 202
    assert new.client.put("/_emulator/faults", content=b'["nope"]', headers=h).status_code == 400
    old = at("2015-08-20", faults={"announcement_enqueue"})
    r = old.post("/announcements", body)
    assert r.status_code == 503 and r.json()["id"] == "service_unavailable"  # the generic 503 of that time


def test_2015_09_03_version_1_1(at: Any) -> None:
    old = at("2015-09-02", version="1.1")
    r = old.post("/conversations", {"participants": ["a", "b"]})
    assert r.status_code == 406 and r.json()["id"] == "invalid_header"
    assert at("2015-09-03", version="1.1").post("/conversations", {"participants": ["a", "b"]}).status_code == 201


def test_2015_09_03_content_negotiation_required(at: Any) -> None:
    for when, status in (("2015-09-02", 201), ("2015-09-03", 406)):
        api = at(when)
        for accept in ("*/*", "application/json"):
            r = api.client.post(api.emu.path("/conversations"), json={"participants": ["a", "b"]},
                                headers={"Authorization": f"Bearer {api.emu.token}", "Accept": accept})
            assert r.status_code in ((201, 303) if status == 201 else (status,)), (when, r.text)  # 303: distinct exists
    assert r.json()["id"] == "invalid_header"


def test_2015_09_16_bulk_block_list_patch(at: Any) -> None:
    ops = [{"operation": "add", "property": "blocks", "value": "b"}, {"operation": "add", "property": "blocks", "value": "c"}]
    old = at("2015-09-15")
    old.conversation(["a", "b"])
    r = old.patch("/users/a", ops)
    assert r.status_code == 422 and r.json()["data"]["property"] == "blocks"
    new = at("2015-09-16")
    new.conversation(["a", "b"])
    assert new.patch("/users/a", ops).status_code == 202
    assert new.get("/users/a/blocks").json() == [{"user_id": "b"}, {"user_id": "c"}]


def test_2015_09_16_method_override(at: Any) -> None:
    ops = orjson.dumps([{"operation": "set", "property": "metadata.t", "value": "x"}])
    for when, status in (("2015-09-15", 405), ("2015-09-16", 204)):
        api = at(when)
        conv = api.conversation(["a", "b"], distinct=False)
        r = api.request("POST", f"/conversations/{cid(conv)}", content=ops,
                        headers={"Content-Type": PATCH_CT, "X-HTTP-Method-Override": "PATCH"})
        assert r.status_code == status, (when, r.text)


def test_2015_09_16_distinct_conversation_303(at: Any) -> None:
    old = at("2015-09-15")
    first = old.conversation(["a", "b"])
    r = old.post("/conversations", {"participants": ["a", "b"]})
    assert r.status_code == 303 and r.headers["location"].endswith(cid(first)) and r.json()["id"] == first["id"]
    new = at("2015-09-16")
    first = new.conversation(["a", "b"])
    r = new.post("/conversations", {"participants": ["a", "b"]})
    assert r.status_code == 200 and r.json()["id"] == first["id"]


def test_2015_09_23_delete_conversation(at: Any) -> None:
    old = at("2015-09-22")
    conv = old.conversation(["a", "b"])
    r = old.delete(f"/conversations/{cid(conv)}")
    assert r.status_code == 405 and "DELETE" not in r.headers["allow"]
    new = at("2015-09-23")
    conv = new.conversation(["a", "b"])
    assert new.delete(f"/conversations/{cid(conv)}").status_code == 204
    assert new.get(f"/conversations/{cid(conv)}").status_code == 410


def test_2015_09_24_base64_non_utf8_binary(at: Any) -> None:
    png = {"sender": {"user_id": "a"},
           "parts": [{"mime_type": "image/png", "encoding": "base64", "body": base64.b64encode(b"\x89PNG\xff").decode()}]}
    old = at("2015-09-23")
    conv = old.conversation(["a", "b"])
    assert old.post(f"/conversations/{cid(conv)}/messages", png).status_code == 500  # 500 since 2015-08-21
    new = at("2015-09-24")
    conv = new.conversation(["a", "b"])
    assert new.post(f"/conversations/{cid(conv)}/messages", png).status_code == 201


def test_2015_09_30_delete_deleted_conversation_succeeds(at: Any) -> None:
    for when, second in (("2015-09-29", 410), ("2015-09-30", 204)):
        api = at(when)
        conv = api.conversation(["a", "b"])
        assert api.delete(f"/conversations/{cid(conv)}").status_code == 204
        assert api.delete(f"/conversations/{cid(conv)}").status_code == second, when


def test_2015_10_09_messages_url(at: Any) -> None:
    assert "messages_url" not in at("2015-10-08").conversation(["a", "b"])
    conv = at("2015-10-09").conversation(["a", "b"])
    assert conv["messages_url"] == conv["url"] + "/messages"


def test_2015_11_18_sender_recipient_status_read(at: Any) -> None:
    for when, own in (("2015-11-17", "sent"), ("2015-11-18", "read")):
        api = at(when)
        conv = api.conversation(["a", "b"])
        assert _msg(api, conv).json()["recipient_status"] == {"a": own, "b": "sent"}, when


def test_2015_11_30_everyone_discontinued(at: Any) -> None:
    body = {"recipients": "everyone", "sender": {"name": "Ops"}, "parts": text()}
    old = at("2015-11-29")
    old.conversation(["a", "b"])
    assert old.post("/announcements", body).status_code == 202
    r = at("2015-11-30").post("/announcements", body)
    assert r.status_code == 422 and r.json()["data"]["property"] == "recipients"


def test_2015_12_23_user_conversation_reads(at: Any) -> None:
    old = at("2015-12-22")
    old.conversation(["a", "b"])
    r = old.get("/users/a/conversations")
    assert r.status_code == 404 and r.json()["id"] == "invalid_endpoint"
    new = at("2015-12-23")
    conv = new.conversation(["a", "b"])
    got = new.get("/users/a/conversations").json()
    assert [c["id"] for c in got] == [conv["id"]] and got[0]["unread_message_count"] == 0
    assert new.get(f"/users/a/conversations/{cid(conv)}").status_code == 200


def test_2015_12_29_atomic_metadata_create(at: Any) -> None:
    for when, expected in (("2015-12-28", ["conversation.created", "conversation.updated.metadata"]),
                           ("2015-12-29", ["conversation.created"])):
        api = at(when)
        receiver = Receiver()
        try:
            register(api.emu, api.client, "1.0", receiver.url,
                     ["conversation.created", "conversation.updated.metadata"])
            api.conversation(["a", "b"], metadata={"title": "x"})
            api.emu.wait_for(lambda r=receiver: r.posts())
            want = len(expected)
            if want > 1:
                api.emu.wait_for(lambda r=receiver, n=want: len(r.posts()) >= n)
            else:
                api.conversation(["c", "d"])  # a later event proves nothing else was queued before it
                api.emu.wait_for(lambda r=receiver: len(r.posts()) >= 2)
            kinds = [p["headers"]["layer-webhook-event-type"] for p in receiver.posts()][:len(expected)]
            assert kinds == expected, when
            if len(expected) == 1:
                assert orjson.loads(receiver.posts()[0]["raw"])["conversation"]["metadata"] == {"title": "x"}
                assert len(receiver.posts("conversation.updated.metadata")) == 0
        finally:
            receiver.close()


def test_2016_01_11_message_reads(at: Any) -> None:
    old = at("2016-01-10")
    conv = old.conversation(["a", "b"])
    m = _msg(old, conv).json()
    r = old.get(f"/conversations/{cid(conv)}/messages")
    assert r.status_code == 405 and r.headers["allow"] == "POST"  # only sending existed on that path
    assert old.get(f"/users/a/messages/{mid(m)}").json()["id"] == "invalid_endpoint"
    new = at("2016-01-11")
    conv = new.conversation(["a", "b"])
    m = _msg(new, conv).json()
    assert [x["id"] for x in new.get(f"/conversations/{cid(conv)}/messages").json()] == [m["id"]]
    assert new.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 200
    assert new.get(f"/users/b/conversations/{cid(conv)}/messages").json()[0]["is_unread"] is True
    assert new.get(f"/users/b/messages/{mid(m)}").status_code == 200


def _upload(api: Any, conv: dict[str, Any], data: bytes) -> dict[str, Any]:
    r = api.post(f"/conversations/{cid(conv)}/content",
                 headers={"Upload-Content-Type": "image/png", "Upload-Content-Length": str(len(data))})
    assert r.status_code == 201, r.text
    content = r.json()
    assert api.client.put(content["upload_url"], content=data).status_code == 200
    return content


def test_2016_02_24_rich_content(at: Any) -> None:
    old = at("2016-02-23")
    conv = old.conversation(["a", "b"])
    r = old.post(f"/conversations/{cid(conv)}/content",
                 headers={"Upload-Content-Type": "image/png", "Upload-Content-Length": "3"})
    assert r.status_code == 404
    part = {"mime_type": "image/png", "content": {"id": "layer:///content/00000000-0000-4000-8000-000000000001", "size": 3}}
    r = old.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": [part]})
    assert r.status_code == 422
    new = at("2016-02-24")
    conv = new.conversation(["a", "b"])
    data = bytes(range(256)) * 20
    content = _upload(new, conv, data)
    m = new.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": [
        {"mime_type": "image/png", "content": {"id": content["id"], "size": len(data)}}]}).json()
    got = new.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").json()["parts"][0]["content"]
    assert got["expiration"].endswith("Z") and got["expiration"] > "2016"
    assert new.client.get(got["download_url"]).content == data
    refreshed = new.client.get(got["refresh_url"].replace("https://api.layer.com", new.emu.url),
                               headers=new.headers()).json()
    assert new.client.get(refreshed["download_url"]).content == data and refreshed["expiration"]


def test_2016_03_01_delete_message(at: Any) -> None:
    old = at("2016-02-29")
    conv = old.conversation(["a", "b"])
    m = _msg(old, conv).json()
    assert old.delete(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 405
    new = at("2016-03-01")
    conv = new.conversation(["a", "b"])
    m = _msg(new, conv).json()
    assert new.delete(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 204
    assert new.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 404


def test_2016_05_05_session_ttl(at: Any) -> None:
    op = [{"operation": "set", "property": "session_ttl_in_seconds", "value": 3600}]
    assert at("2016-05-04").patch("", op).status_code in (404, 405)
    new = at("2016-05-05")
    assert new.patch("", op).status_code == 202
    assert new.emu.store.get_kv("session_ttl_in_seconds") == 3600


def test_2016_05_05_delete_sessions(at: Any) -> None:
    old = at("2016-05-04")
    old.conversation(["a", "b"])
    assert old.delete("/users/a/sessions").status_code in (404, 405)
    new = at("2016-05-05")
    new.conversation(["a", "b"])
    assert new.delete("/users/a/sessions").status_code == 204
    assert [s["user_id"] for s in new.emu.store.session_resets()] == ["a"]


def test_2016_06_09_delayed_messages_wait(at: Any, clock: Any) -> None:
    delayed = {"sender": {"user_id": "a"}, "parts": text(), "schedule": {"delay_in_seconds": 5.0}}
    old = at("2016-06-08")
    conv = old.conversation(["a", "b"])
    r = old.post(f"/conversations/{cid(conv)}/messages", delayed)
    assert r.status_code == 422 and r.json()["data"]["property"] == "schedule"
    new = at("2016-06-09", clock=clock)
    conv = new.conversation(["a", "b"])
    r = new.post(f"/conversations/{cid(conv)}/messages", delayed)
    assert r.status_code == 202
    m = r.json()
    assert new.get(f"/conversations/{cid(conv)}/messages").json() == []
    assert new.get(f"/conversations/{cid(conv)}/messages/{mid(m)}").status_code == 404
    clock.advance(4.9)
    assert new.get(f"/conversations/{cid(conv)}/messages").json() == []
    clock.advance(0.2)
    got = new.get(f"/conversations/{cid(conv)}/messages").json()
    assert [x["id"] for x in got] == [m["id"]] and got[0]["sent_at"] == m["sent_at"]


def test_2016_06_09_delayed_message_released_without_a_request(at: Any, clock: Any) -> None:
    api = at(None, clock=clock)
    conv = api.conversation(["a", "b"])
    api.post(f"/conversations/{cid(conv)}/messages",
             {"sender": {"user_id": "a"}, "parts": text(), "schedule": {"delay_in_seconds": 2}})
    clock.advance(3)
    api.emu.wait_for(lambda: api.emu.store.messages(), timeout=5)  # the background tick sent it


def test_2016_06_09_delayed_message_dropped_when_conversation_deleted(at: Any, clock: Any) -> None:
    api = at(None, clock=clock)
    conv = api.conversation(["a", "b"])
    m = api.post(f"/conversations/{cid(conv)}/messages",
                 {"sender": {"user_id": "a"}, "parts": text(), "schedule": {"delay_in_seconds": 10}}).json()
    assert api.delete(f"/conversations/{cid(conv)}").status_code == 204
    clock.advance(11)
    api.emu.app.release_due()
    assert api.emu.store.messages(include_deleted=True) == []
    assert api.emu.store.get_kv("dropped_messages") == [{"message": mid(m), "reason": "conversation deleted"}]


def test_2016_06_09_delayed_message_dropped_when_sender_removed(at: Any, clock: Any) -> None:
    api = at(None, clock=clock)
    conv = api.conversation(["a", "b", "c"])
    api.post(f"/conversations/{cid(conv)}/messages",
             {"sender": {"user_id": "a"}, "parts": text(), "schedule": {"delay_in_seconds": 10}})
    api.post(f"/conversations/{cid(conv)}/messages",
             {"sender": {"user_id": "b"}, "parts": text("stays"), "schedule": {"delay_in_seconds": 10}})
    assert api.patch(f"/conversations/{cid(conv)}",
                     [{"operation": "remove", "property": "participants", "value": "a"}]).status_code == 204
    clock.advance(11)
    got = api.get(f"/conversations/{cid(conv)}/messages").json()
    assert [x["parts"][0]["body"] for x in got] == ["stays"]
    assert got[0]["recipient_status"] == {"b": "read", "c": "sent"}
    assert [d["reason"] for d in api.emu.store.get_kv("dropped_messages")] == ["sender removed"]


def test_2016_06_21_explicit_nulls(at: Any) -> None:
    old = at("2016-06-20")
    conv = old.conversation(["a", "b"])
    bot = old.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "t-bone"}, "parts": [
        {"mime_type": "text/plain", "body": base64.b64encode(b"any carnal pleasure").decode(), "encoding": "base64"}]})
    assert bot.json()["sender"] == {"name": "t-bone"}  # OBS: the null key was omitted
    assert bot.json()["parts"][0]["body"] == "any carnal pleasure" and "encoding" not in bot.json()["parts"][0]
    assert "metadata" not in old.get(f"/conversations/{cid(conv)}").json()
    new = at("2016-06-21")
    conv = new.conversation(["a", "b"])
    bot = new.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "t-bone"}, "parts": text()})
    assert bot.json()["sender"] == {"user_id": None, "name": "t-bone"}
    assert new.get(f"/conversations/{cid(conv)}").json()["metadata"] is None


def test_2016_06_21_unknown_user_404(at: Any) -> None:
    old = at("2016-06-20")
    assert old.get("/users/nobody/conversations").json() == []
    assert any(u["user_id"] == "nobody" for u in old.emu.store.users())
    r = at("2016-06-21").get("/users/nobody/conversations")
    assert r.status_code == 404 and r.json()["id"] == "not_found"


def _leave_and_rejoin(api: Any) -> dict[str, Any]:
    conv = api.conversation(["a", "b", "c"], distinct=False)
    r = api.delete(f"/users/c/conversations/{cid(conv)}", params={"mode": "my_devices", "leave": "true"})
    assert r.status_code == 204, r.text
    assert api.get(f"/conversations/{cid(conv)}").json()["participants"] == ["a", "b"]
    assert api.get(f"/users/c/conversations/{cid(conv)}").status_code == 404
    assert api.patch(f"/conversations/{cid(conv)}",
                     [{"operation": "add", "property": "participants", "value": "c"}]).status_code == 204
    return api.get(f"/users/c/conversations/{cid(conv)}").json()


def test_2016_08_30_rejoin_shows_full_participant_list(at: Any) -> None:
    assert _leave_and_rejoin(at("2016-08-29"))["participants"] == []
    assert _leave_and_rejoin(at("2016-08-30"))["participants"] == ["a", "b", "c"]


def test_2016_08_30_leave_modes(at: Any) -> None:
    api = at(None)
    conv = api.conversation(["a", "b"], distinct=False)
    assert api.delete(f"/users/a/conversations/{cid(conv)}", params={"mode": "sideways"}).status_code == 422
    assert api.delete(f"/users/a/conversations/{cid(conv)}", params={"mode": "my_devices"}).status_code == 204
    assert api.get(f"/conversations/{cid(conv)}").json()["participants"] == ["a", "b"]
    assert api.delete(f"/users/a/conversations/{cid(conv)}", params={"mode": "all_participants"}).status_code == 204
    assert api.get(f"/conversations/{cid(conv)}").status_code == 410


def test_2016_10_14_participants_order_may_vary(at: Any) -> None:
    # Before: request order. After: a set — the emulator keeps request order, one of the allowed orders.
    assert at("2016-10-13").conversation(["c", "a", "b"])["participants"] == ["c", "a", "b"]
    assert sorted(at("2016-10-14").conversation(["c", "a", "b"])["participants"]) == ["a", "b", "c"]


def test_2016_06_09_delayed_message_survives_restart(tmp_path: Any, clock: Any) -> None:
    db = str(tmp_path / "layer.sqlite")
    first = Emulator(db=db, clock=clock, **TEST_OPTIONS)
    with first.running():
        with httpx.Client(base_url=first.url, headers=first.headers("1.0"), timeout=10) as c:
            conv = c.post(first.path("/conversations"), json={"participants": ["a", "b"]}).json()
            r = c.post(first.path(f"/conversations/{cid(conv)}/messages"),
                       json={"sender": {"user_id": "a"}, "parts": text(), "schedule": {"delay_in_seconds": 30}})
            assert r.status_code == 202
    first.close()
    clock.advance(31)
    second = Emulator(db=db, clock=clock, **TEST_OPTIONS)
    with second.running():
        second.wait_for(lambda: second.store.messages(), timeout=5)
        assert second.store.messages()[0]["uuid"] == mid(r.json())
    second.close()
