"""Webhooks (§12): REST per version, verification, and real signed delivery to a local receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from .conftest import cid, mid, text

SECRET = "my-secret"


class Receiver:
    """A real HTTP webhook consumer on 127.0.0.1 recording every request."""

    def __init__(self, fail_first: int = 0, always_fail: bool = False, echo: bool = True) -> None:
        self.requests: list[dict] = []
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.echo = echo
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                q = parse_qs(urlsplit(self.path).query)
                body = (q.get("verification_challenge", [""])[0] if outer.echo else "nope").encode()
                with outer.lock:
                    outer.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    posts = [r for r in outer.requests if r["method"] == "POST"]
                    fail = outer.always_fail or len(posts) < outer.fail_first
                    outer.requests.append({"method": "POST", "path": self.path,
                                           "headers": {k.lower(): v for k, v in self.headers.items()}, "raw": raw})
                self.send_response(500 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, event_type: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST"
                    and (event_type is None or r["headers"]["layer-webhook-event-type"] == event_type)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def wh_headers(emu, version):
    return {"Authorization": f"Bearer {emu.token}", "Accept": f"application/vnd.layer.webhooks+json; version={version}"}


def register(emu, http, version, url, events, config=None, wait=True):
    body = {"version": version, "target_url": url, "events": events, "secret": SECRET}
    if config is not None:
        body["config"] = config
    r = http.post(emu.path("/webhooks"), json=body, headers=wh_headers(emu, version))
    assert r.status_code == 201, r.text
    hook = r.json()
    if wait:
        wid = hook["id"].rsplit("/", 1)[1]
        emu.wait_for(lambda: http.get(emu.path(f"/webhooks/{wid}"), headers=wh_headers(emu, version)).json()["status"] != "unverified")
    return hook


def verify_signature(req):
    expected = hmac.new(SECRET.encode(), req["raw"], hashlib.sha1).hexdigest()
    assert req["headers"]["layer-webhook-signature"] == expected
    return json.loads(req["raw"])


def test_rest_per_version(emulator, http, receiver):
    hook = register(emulator, http, "1.0", receiver.url, ["message.sent"], config={"key1": "value1"}, wait=False)
    wid = hook["id"].rsplit("/", 1)[1]
    assert hook["id"] == f"layer:///apps/{emulator.app_id}/webhooks/{wid}"
    assert hook["url"] == f"https://api.layer.com/apps/{emulator.app_id}/webhooks/{wid}"
    assert hook["status"] == "unverified" and hook["version"] == "1.0" and hook["config"] == {"key1": "value1"}
    assert "secret" not in hook
    emulator.wait_for(lambda: http.get(emulator.path(f"/webhooks/{wid}"), headers=wh_headers(emulator, "1.0")).json()["status"] == "active")
    challenge = receiver.requests[0]
    assert challenge["method"] == "GET" and "verification_challenge=" in challenge["path"]
    listed = http.get(emulator.path("/webhooks"), headers=wh_headers(emulator, "3.0")).json()
    assert [w["id"] for w in listed] == [hook["id"]]
    r = http.post(emulator.path(f"/webhooks/{wid}/deactivate"), headers=wh_headers(emulator, "1.0"))
    assert r.status_code == 200 and r.json()["status"] == "inactive" and r.json()["status_reason"]
    r = http.post(emulator.path(f"/webhooks/{wid}/activate"), headers=wh_headers(emulator, "1.0"))
    assert r.status_code == 200 and r.json()["status"] == "unverified"
    assert http.delete(emulator.path(f"/webhooks/{wid}"), headers=wh_headers(emulator, "1.0")).status_code == 204
    assert http.get(emulator.path(f"/webhooks/{wid}"), headers=wh_headers(emulator, "1.0")).status_code == 404


@pytest.mark.parametrize(("body", "prop"), [
    ({"target_url": "https://x.example/h", "events": ["message.sent"], "secret": "s"}, "version"),
    ({"version": "1.0", "events": ["message.sent"], "secret": "s"}, "target_url"),
    ({"version": "1.0", "target_url": "https://x.example/h", "secret": "s"}, "events"),
    ({"version": "1.0", "target_url": "https://x.example/h", "events": ["message.sent"]}, "secret"),
    ({"version": "1.0", "target_url": "http://x.example/h", "events": ["message.sent"], "secret": "s"}, "target_url"),
    ({"version": "1.0", "target_url": "https://x.example/h", "events": ["Message.created"], "secret": "s"}, "events"),
    ({"version": "3.0", "target_url": "https://x.example/h", "events": ["Message.created"], "secret": "s"}, "version"),
])
def test_rest_validation(emulator, http, body, prop):
    r = http.post(emulator.path("/webhooks"), json=body, headers=wh_headers(emulator, "1.0"))
    assert r.status_code == 422, r.text
    assert r.json()["data"]["property"] == prop
    if prop == "version" and "version" not in body:
        assert r.json()["message"] == "The version property cannot be omitted."


def test_rest_needs_webhooks_media_type(emulator, http):
    r = http.get(emulator.path("/webhooks"), headers=emulator.headers("1.0"))
    assert r.status_code == 406 and r.json()["id"] == "invalid_header"


def test_failed_verification_makes_inactive(emulator, http):
    bad = Receiver(echo=False)
    try:
        hook = register(emulator, http, "1.0", bad.url, ["message.sent"])
        got = http.get(emulator.path(f"/webhooks/{hook['id'].rsplit('/', 1)[1]}"), headers=wh_headers(emulator, "1.0")).json()
        assert got["status"] == "inactive" and "verification" in got["status_reason"].lower()
    finally:
        bad.close()


def test_v1_delivery_payloads(emulator, http, receiver, v1):
    register(emulator, http, "1.0", receiver.url, list(
        ("message.sent", "message.read", "message.delivered", "message.deleted", "conversation.created",
         "conversation.updated.participants", "conversation.updated.metadata", "conversation.deleted")),
        config={"key1": "value1"})
    conv = v1.conversation(["12345", "999", "111"])
    msg = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "12345"}, "parts": text("This is the message.")}).json()
    bot = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"name": "t-bone"}, "parts": text()}).json()
    v1.post(f"/users/999/messages/{mid(msg)}/receipts", {"type": "read"})
    v1.patch(f"/conversations/{cid(conv)}", [{"operation": "add", "property": "participants", "value": "777"},
                                             {"operation": "set", "property": "metadata.a", "value": "b"}])
    v1.delete(f"/conversations/{cid(conv)}/messages/{mid(bot)}")
    v1.delete(f"/conversations/{cid(conv)}")
    emulator.wait_for(lambda: len(receiver.posts()) >= 8)
    types = [r["headers"]["layer-webhook-event-type"] for r in receiver.posts()]
    assert sorted(types) == sorted(["conversation.created", "message.sent", "message.sent", "message.read",
                                    "conversation.updated.participants", "conversation.updated.metadata",
                                    "message.deleted", "conversation.deleted"])
    for req in receiver.posts():
        body = verify_signature(req)
        h = req["headers"]
        assert h["content-type"] == "application/vnd.layer.webhooks+json; version=1.0"
        assert h["user-agent"] == "layer-webhooks/1.0"
        assert h["layer-webhook-request-id"] and h["layer-webhook-id"]
        assert body["config"] == {"key1": "value1"}
        assert body["event"]["type"] == h["layer-webhook-event-type"]
        assert set(body["event"]) >= {"created_at", "type", "id"}
    sent = [verify_signature(r) for r in receiver.posts("message.sent")]
    user_sent = next(b for b in sent if b["message"]["id"] == msg["id"])
    assert user_sent["event"]["actor"] == {"user_id": "12345"}
    assert user_sent["message"]["sender"] == {"user_id": "12345"}
    assert user_sent["message"]["recipient_status"] == {"12345": "read", "999": "sent", "111": "sent"}
    assert user_sent["message"]["parts"][0]["id"] == f"layer:///messages/{mid(msg)}/parts/0"
    assert "is_unread" not in user_sent["message"]
    bot_sent = next(b for b in sent if b["message"]["id"] == bot["id"])
    assert bot_sent["event"]["actor"] == {"name": "t-bone"} and bot_sent["message"]["sender"] == {"name": "t-bone"}
    read = verify_signature(receiver.posts("message.read")[0])
    assert read["event"]["actor"] == {"user_id": "999"} and read["message"]["recipient_status"]["999"] == "read"
    upd = verify_signature(receiver.posts("conversation.updated.participants")[0])
    assert "777" in upd["conversation"]["participants"]
    assert set(emulator.store.webhook_deliveries()[0]) >= {"id", "event_type", "body", "headers", "attempts", "status"}
    emulator.wait_for(lambda: all(d["status"] == "delivered" for d in emulator.store.webhook_deliveries()))


def test_v3_delivery_payloads(emulator, http, receiver, v3):
    register(emulator, http, "3.0", receiver.url, ["Message.created", "Conversation.created", "Conversation.updated",
                                                  "Receipt.created", "MessagePart.created", "Message.deleted"])
    v3.identity("1234", "One Two Three Four")
    conv = v3.conversation(["1234", "999"])
    msg = v3.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/1234", "parts": text()}).json()
    v3.patch(f"/conversations/{cid(conv)}", [{"operation": "add", "property": "participants", "id": "layer:///identities/5"},
                                             {"operation": "set", "property": "metadata.t", "value": "x"}])
    v3.post(f"/users/999/messages/{mid(msg)}/receipts", {"type": "delivery"})
    v3.post(f"/conversations/{cid(conv)}/messages/{mid(msg)}/parts", {"body": "more", "mime_type": "text/plain"})
    emulator.wait_for(lambda: len(receiver.posts()) >= 5)
    created = verify_signature(receiver.posts("Message.created")[0])
    h = receiver.posts("Message.created")[0]["headers"]
    assert h["content-type"] == "application/vnd.layer.webhooks+json; version=3.0" and h["user-agent"] == "layer-webhooks/3.0"
    assert created["actor"]["id"] == "layer:///identities/1234" and created["actor"]["display_name"] == "One Two Three Four"
    assert created["message"]["sender"] == created["actor"]
    assert created["message"]["parts"][0]["id"] == msg["parts"][0]["id"]
    assert {"position", "updated_at"} <= set(created["message"])
    assert "config" not in created
    updated = verify_signature(receiver.posts("Conversation.updated")[0])
    props = {c["property"]: c for c in updated["changes"]}
    assert [p["user_id"] for p in props["participants"]["added"]] == ["5"]
    assert props["metadata"]["after"] == {"t": "x"}
    receipt = verify_signature(receiver.posts("Receipt.created")[0])
    assert receipt["receipt"] == {"type": "delivery"} and receipt["actor"]["user_id"] == "999"
    assert receipt["message"]["recipient_status"]["layer:///identities/999"] == "delivered"
    part = verify_signature(receiver.posts("MessagePart.created")[0])
    assert part["message_part"]["body"] == "more"
    conv_created = verify_signature(receiver.posts("Conversation.created")[0])
    assert conv_created["conversation"]["participants"][0]["id"].startswith("layer:///identities/")


def test_retries_then_success_keep_request_id(emulator, http, v1):
    flaky = Receiver(fail_first=2)
    try:
        register(emulator, http, "1.0", flaky.url, ["conversation.created"])
        v1.conversation(["a"])
        emulator.wait_for(lambda: emulator.store.webhook_deliveries() and emulator.store.webhook_deliveries()[0]["status"] == "delivered")
        posts = flaky.posts()
        assert len(posts) == 3
        assert len({p["headers"]["layer-webhook-request-id"] for p in posts}) == 1
        assert [a.get("status") for a in emulator.store.webhook_deliveries()[0]["attempts"]] == [500, 500, 204]
    finally:
        flaky.close()


def test_repeated_failure_makes_webhook_inactive(emulator, http, v1):
    dead = Receiver(always_fail=True)
    try:
        hook = register(emulator, http, "1.0", dead.url, ["conversation.created"])
        v1.conversation(["a"])
        emulator.wait_for(lambda: emulator.store.webhook_deliveries()[0]["status"] == "failed")
        wid = hook["id"].rsplit("/", 1)[1]
        got = http.get(emulator.path(f"/webhooks/{wid}"), headers=wh_headers(emulator, "1.0")).json()
        assert got["status"] == "inactive" and "failed" in got["status_reason"]
        v1.conversation(["b"])  # no more deliveries to an inactive webhook
        assert len(emulator.store.webhook_deliveries()) == 1
    finally:
        dead.close()


def test_unsubscribed_and_unverified_get_nothing(emulator, http, receiver, v1):
    register(emulator, http, "1.0", receiver.url, ["message.deleted"])
    v1.conversation(["a"])
    assert emulator.store.webhook_deliveries() == []


def test_pending_deliveries_resume_after_restart(tmp_path):
    from layer_migrate.emulator import Emulator

    db = str(tmp_path / "wh.sqlite")
    receiver = Receiver()
    try:
        emu = Emulator(db=db, retry_base=30, max_attempts=5)  # first attempt fails, the retry is far away
        with emu.running(), httpx.Client(base_url=emu.url) as http:
            register(emu, http, "1.0", receiver.url, ["conversation.created"])
            receiver.always_fail = True
            http.post(emu.path("/conversations"), json={"participants": ["a"]}, headers=emu.headers("1.0"))
            emu.wait_for(lambda: emu.store.webhook_deliveries()[0]["attempts"])
        emu.close()
        receiver.always_fail = False
        again = Emulator(db=db, retry_base=0.01)
        with again.running():
            again.wait_for(lambda: again.store.webhook_deliveries()[0]["status"] == "delivered")
            d = again.store.webhook_deliveries()[0]
            assert [a.get("status") for a in d["attempts"]] == [500, 204]
            assert len({p["headers"]["layer-webhook-request-id"] for p in receiver.posts()}) == 1
        again.close()
    finally:
        receiver.close()


def test_v2_delivery_payloads(emulator, http, receiver, v2):
    register(emulator, http, "2.0", receiver.url, ["Message.created", "Identity.created", "Receipt.created"])
    v2.post("/users/alice/identity", {"display_name": "Alice", "type": "User"})
    conv = v2.conversation(["alice", "bob"])
    msg = v2.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/alice", "parts": text()}).json()
    v2.post(f"/users/bob/messages/{mid(msg)}/receipts", {"type": "read"})
    emulator.wait_for(lambda: len(receiver.posts()) >= 3)
    h = receiver.posts("Message.created")[0]["headers"]
    assert h["content-type"] == "application/vnd.layer.webhooks+json; version=2.0" and h["user-agent"] == "layer-webhooks/2.0"
    created = verify_signature(receiver.posts("Message.created")[0])
    assert created["actor"]["user_id"] == "alice" and "actor" not in created["event"]
    assert created["message"]["parts"][0]["id"] == f"layer:///messages/{mid(msg)}/parts/0"
    assert "position" not in created["message"]
    ident = verify_signature(receiver.posts("Identity.created")[0])
    assert ident["identity"]["id"] == "layer:///identities/alice" and ident["identity"]["identity_type"] == "user"
    receipt = verify_signature(receiver.posts("Receipt.created")[0])
    assert receipt["receipt"] == {"type": "read"} and receipt["actor"]["id"] == "layer:///identities/bob"


def test_first_attempts_arrive_in_event_order(emulator, http, receiver, v1):
    register(emulator, http, "1.0", receiver.url, ["conversation.created", "message.sent"])
    for _ in range(10):
        conv = v1.conversation(["a", "b"], distinct=False)
        v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()})
    emulator.wait_for(lambda: len(receiver.posts()) >= 20)
    received = [p["headers"]["layer-webhook-request-id"] for p in receiver.posts()]
    assert received == [d["id"] for d in emulator.store.webhook_deliveries()]


def test_webhooks_version_1_1_only_when_lenient(emulator, lenient_emulator):
    for emu, status in ((emulator, 406), (lenient_emulator, 200)):
        with httpx.Client(base_url=emu.url) as c:
            r = c.get(emu.path("/webhooks"), headers={"Authorization": f"Bearer {emu.token}",
                                                       "Accept": "application/vnd.layer.webhooks+json; version=1.1"})
            assert r.status_code == status
