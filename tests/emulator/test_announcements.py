"""Announcements (§6) and ad-hoc notifications (§7.3)."""

from __future__ import annotations

import pytest


def test_v1_announcement(v1):
    body = {"recipients": ["1234", "5678"], "sender": {"name": "The System"},
            "parts": [{"body": "Hello, World!", "mime_type": "text/plain"}], "notification": {"text": "Hello"}}
    r = v1.post("/announcements", body)
    assert r.status_code == 202
    ann = r.json()
    auuid = ann["id"].rsplit("/", 1)[1]
    assert ann["id"].startswith("layer:///announcements/")
    assert ann["url"] == f"https://api.layer.com/apps/{v1.emu.app_id}/announcements/{auuid}"
    assert ann["recipients"] == ["1234", "5678"]
    assert ann["sender"] == {"user_id": None, "name": "The System"}
    assert ann["parts"] == [{"id": f"layer:///announcements/{auuid}/parts/0", "body": "Hello, World!", "mime_type": "text/plain"}]
    assert set(ann) == {"id", "url", "sent_at", "recipients", "sender", "parts"}
    note = v1.emu.store.notifications()[0]
    assert note["source"] == "announcement" and note["recipients"] == ["1234", "5678"]
    assert v1.emu.store.announcements()[0]["sender"] == {"name": "The System"}


@pytest.mark.parametrize(("body", "error", "prop"), [
    ({"sender": {"name": "S"}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, "missing_property", "recipients"),
    ({"recipients": "everyone", "sender": {"name": "S"}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, "invalid_property", "recipients"),
    ({"recipients": ["a"], "sender": {"user_id": "a"}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, "invalid_property", "sender.user_id"),
    ({"recipients": ["a"], "parts": [{"body": "x", "mime_type": "text/plain"}]}, "missing_property", "sender"),
    ({"recipients": ["a"], "sender": {"name": "S"}}, "missing_property", "parts"),
])
def test_v1_announcement_errors(v1, body, error, prop):
    r = v1.post("/announcements", body)
    assert r.status_code == 422
    assert r.json()["id"] == error and r.json()["data"]["property"] == prop


def test_v1_missing_recipients_message(v1):
    r = v1.post("/announcements", {"sender": {"name": "S"}, "parts": [{"body": "x", "mime_type": "text/plain"}]})
    assert r.json()["message"] == "Object is missing required member 'recipients'"


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_v3_announcement(v3, version):
    v3.identity("admin", "Admin", identity_type="bot")
    api = v3.at(version)
    r = api.post("/announcements", {"recipients": ["layer:///identities/1234"], "sender_id": "layer:///identities/admin",
                                    "parts": [{"body": "Hello", "mime_type": "text/plain"}]})
    assert r.status_code == 202, r.text
    ann = r.json()
    assert ann["recipients"] == ["layer:///identities/1234"]
    assert ann["sender"]["id"] == "layer:///identities/admin" and ann["sender"]["display_name"] == "Admin"
    assert api.post("/announcements", {"recipients": ["1234"], "sender_id": "layer:///identities/admin",
                                       "parts": [{"body": "x", "mime_type": "text/plain"}]}).status_code == 422
    r = api.post("/announcements", {"recipients": ["layer:///identities/1234"], "sender": {"name": "Admin"},
                                    "parts": [{"body": "x", "mime_type": "text/plain"}]})
    assert r.status_code == 422 and r.json()["data"]["property"] == "sender_id"


def test_v1_announcement_reads_in_v3_shape(v1):
    v1.post("/announcements", {"recipients": ["a"], "sender": {"name": "Admin"}, "parts": [{"body": "x", "mime_type": "text/plain"}]})
    ann = v1.emu.store.announcements()[0]
    assert ann["recipients"] == ["a"]


def test_notifications_endpoint(v1, v3):
    body = {"recipients": ["1234", "5678"], "notification": {"title": "New Alert", "text": "This is the alert text",
                                                              "sound": "chime.aiff"}}
    r = v1.post("/notifications", body)
    assert r.status_code == 202 and r.content == b""
    r3 = v3.post("/notifications", {"recipients": ["layer:///identities/1234"],
                                    "notification": {"text": "x", "recipients": [{"recipient": "layer:///identities/1234", "text": "y"}]}})
    assert r3.status_code == 202
    stored = v1.emu.store.notifications()
    assert stored[0]["recipients"] == ["1234", "5678"] and stored[0]["notification"]["title"] == "New Alert"
    assert stored[1]["overrides"] == {"1234": {"text": "y"}}
    assert v1.post("/notifications", {"recipients": ["a"]}).status_code == 422
    assert v1.post("/notifications", {"notification": {"text": "x"}}).status_code == 422
    assert v3.post("/notifications", {"recipients": ["bare"], "notification": {"text": "x"}}).status_code == 422
    assert v1.request("POST", "/notifications", content=b"", headers={"Content-Type": "application/json"}).status_code == 400


def test_rich_content_flow(v1, http):
    conv = v1.conversation(["a", "b"])
    c = conv["id"].rsplit("/", 1)[1]
    r = v1.post(f"/conversations/{c}/content", headers={"Upload-Content-Type": "image/png", "Upload-Content-Length": "5"})
    assert r.status_code == 201, r.text
    content = r.json()
    assert content["id"].startswith("layer:///content/") and content["size"] == 5
    assert r.headers["location"].endswith(content["id"].rsplit("/", 1)[1])
    up = http.put(content["upload_url"].replace(v1.emu.url, ""), content=b"12345")
    assert up.status_code == 200
    m = v1.post(f"/conversations/{c}/messages", {"sender": {"user_id": "a"},
                                                 "parts": [{"mime_type": "image/png", "content": {"id": content["id"], "size": 5}}]})
    assert m.status_code == 201
    part = m.json()["parts"][0]
    assert part["content"]["id"] == content["id"] and part["content"]["size"] == 5
    refreshed = v1.get(f"/conversations/{c}/content/{content['id'].rsplit('/', 1)[1]}").json()
    assert refreshed["download_url"] and http.get(refreshed["download_url"].replace(v1.emu.url, "")).content == b"12345"
    assert v1.post(f"/conversations/{c}/content").status_code == 422


def test_exports(v1):
    assert v1.post("/exports").status_code == 422
    assert v1.put("/export_security", {"public_key": "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"}).status_code == 200
    r = v1.post("/exports")
    assert r.status_code == 202
    eid = r.json()["id"]
    assert v1.get(f"/exports/{eid}/status").status_code == 202
    assert [e["id"] for e in v1.get("/exports").json()] == [eid]
    assert v1.delete(f"/exports/{eid}").status_code == 204
    assert v1.delete(f"/exports/{eid}").status_code == 404
    assert v1.put("/export_schedule", {"interval": "daily", "events": ["message.sent"]}).status_code == 200
    assert v1.get("/export_schedule").json()["interval"] == "daily"
    assert v1.put("/export_schedule", {"interval": "hourly"}).status_code == 422
