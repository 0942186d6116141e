"""Webhook relay end-to-end (R49–R53): 3.0 deliveries from the emulator reach a v1 receiver
through the proxy with valid 1.0 signatures and 1.0 shapes — compared, differentially, with
what the same emulator delivers to a 1.0 webhook registered directly."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from proxy_scenario import normalise

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running
from layer_migrate.proxy.webhooks import sign

V1_SECRET = "legacy-receiver-secret"
UP_SECRET = "upstream-relay-secret"
V3 = "application/vnd.layer+json; version=3.0"
WH = "application/vnd.layer.webhooks+json; version={}"
V1_EVENTS = ["message.sent", "message.deleted", "conversation.created", "conversation.updated.participants",
             "conversation.updated.metadata", "conversation.deleted", "message.read", "message.delivered"]
V3_EVENTS = ["Message.created", "Message.deleted", "Conversation.created", "Conversation.updated",
             "Conversation.deleted", "Receipt.created", "MessagePart.created", "Identity.created"]


class Receiver:
    """A legacy 1.0 webhook consumer: answers the challenge, records deliveries."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                q = parse_qs(urlsplit(self.path).query).get("verification_challenge", [""])[0]
                self.send_response(200)
                self.send_header("content-length", str(len(q)))
                self.end_headers()
                self.wfile.write(q.encode())

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(n)
                outer.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def setup():
    direct, relayed = Receiver(), Receiver()
    emu = Emulator(retry_base=0.02, retry_cap=0.1, max_attempts=4, webhook_timeout=2.0)
    with emu.running(), running(ProxyConfig(
            upstream=emu.url, port=0, access_log=None, webhook_target=relayed.url,
            webhook_secret=V1_SECRET, upstream_webhook_secret=UP_SECRET)) as proxy:
        yield emu, proxy, direct, relayed
    emu.close()
    direct.close()
    relayed.close()


def register(emu, version, target, secret, events):
    r = httpx.post(emu.url + emu.path("/webhooks"), headers={
        "authorization": f"Bearer {emu.token}", "accept": WH.format(version)},
        json={"version": version, "target_url": target, "events": events, "secret": secret,
              "config": {"team": "legacy"}})
    assert r.status_code == 201, r.text
    return r.json()


def test_relay_matches_direct_v1_webhook(setup):
    emu, proxy, direct, relayed = setup
    register(emu, "1.0", direct.url, V1_SECRET, V1_EVENTS)
    wh = register(emu, "3.0", proxy.url + "/-/webhooks", UP_SECRET, V3_EVENTS)
    deadline = time.monotonic() + 5
    while httpx.get(emu.url + emu.path(f"/webhooks/{wh['id'].rsplit('/', 1)[-1]}"),
                    headers={"authorization": f"Bearer {emu.token}", "accept": WH.format("3.0")}
                    ).json()["status"] != "active":
        assert time.monotonic() < deadline, "relay did not pass the verification challenge"
        time.sleep(0.02)
    h = emu.headers("3.0")
    c = httpx.Client(base_url=emu.url, headers=h, timeout=10)
    for u in ("alice", "bob", "carol"):
        c.post(emu.path(f"/users/{u}/identity"), json={"display_name": u.title()})
    conv = c.post(emu.path("/conversations"), json={
        "participants": ["layer:///identities/alice", "layer:///identities/bob"], "metadata": {"a": "b"}}).json()
    cid = conv["id"].rsplit("/", 1)[-1]
    msg = c.post(emu.path(f"/conversations/{cid}/messages"), json={
        "sender_id": "layer:///identities/alice", "parts": [{"body": "hi", "mime_type": "text/plain"}]}).json()
    mid = msg["id"].rsplit("/", 1)[-1]
    patch = {"content-type": "application/vnd.layer-patch+json"}
    assert c.patch(emu.path(f"/conversations/{cid}"), headers=patch, content=orjson.dumps(
        [{"operation": "add", "property": "participants", "id": "layer:///identities/carol"}])).status_code == 204
    assert c.patch(emu.path(f"/conversations/{cid}"), headers=patch, content=orjson.dumps(
        [{"operation": "set", "property": "metadata.a", "value": "c"}])).status_code == 204
    c.post(emu.path(f"/users/bob/messages/{mid}/receipts"), json={"type": "read"})
    assert c.delete(emu.path(f"/conversations/{cid}/messages/{mid}")).status_code == 204
    assert c.delete(emu.path(f"/conversations/{cid}")).status_code == 204

    def settled():
        n = len(direct.deliveries)
        return n >= 7 and len(relayed.deliveries) >= n

    emu.wait_for(settled, timeout=10)
    time.sleep(0.3)  # late stragglers (dropped 3.0-only events produce nothing)

    for headers, raw in direct.deliveries + relayed.deliveries:
        assert headers["layer-webhook-signature"] == sign(V1_SECRET, raw)
        assert headers["content-type"] == WH.format("1.0")
        assert headers["user-agent"] == "layer-webhooks/1.0"
        assert headers.get("layer-webhook-request-id")

    def shapes(deliveries):
        return sorted((h["layer-webhook-event-type"], orjson.dumps(normalise(orjson.loads(raw)),
                                                                   option=orjson.OPT_SORT_KEYS).decode())
                      for h, raw in deliveries)

    got, want = shapes(relayed.deliveries), shapes(direct.deliveries)
    assert [t for t, _ in want] == ["conversation.created", "conversation.deleted",
                                    "conversation.updated.metadata", "conversation.updated.participants",
                                    "message.deleted", "message.read", "message.sent"]
    assert [t for t, _ in got] == [t for t, _ in want]
    for (t, g), (_, w) in zip(got, want, strict=True):
        assert orjson.loads(g) == orjson.loads(w), t
    # 3.0-only events (Identity.created, MessagePart.*) were dropped and counted
    metrics = httpx.get(proxy.url + "/-/metrics").text
    assert 'layer_proxy_webhooks_total{outcome="dropped"' in metrics
    assert 'layer_proxy_webhooks_total{outcome="relayed"' in metrics


def test_bad_signature_is_refused_and_not_forwarded(setup):
    _, proxy, _, relayed = setup
    body = orjson.dumps({"event": {"type": "Message.created", "id": "x", "created_at": "2026-01-01T00:00:00Z"}})
    r = httpx.post(proxy.url + "/-/webhooks", content=body, headers={
        "layer-webhook-event-type": "Message.created", "layer-webhook-signature": sign("wrong", body),
        "content-type": WH.format("3.0")})
    assert r.status_code == 403
    assert r.json()["id"] == "access_denied"
    assert relayed.deliveries == []
    r = httpx.get(proxy.url + "/-/webhooks?verification_challenge=abc123")
    assert r.status_code == 200 and r.text == "abc123"
