"""Webhook receiver for Layer Webhooks 1.0 (``message.sent``).

Layer signs each delivery with ``layer-webhook-signature: hex(HMAC-SHA1(secret, raw body))``.
The receiver is a tiny WSGI app so it runs under any server (and in tests without one).
"""

import hashlib
import hmac
import json

WEBHOOKS_ACCEPT = "application/vnd.layer.webhooks+json; version=1.0"


def sign(secret, raw_body):
    return hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha1).hexdigest()


def verify_signature(secret, raw_body, signature):
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, raw_body), signature)


def summarize_message_sent(payload):
    """What the support desk keeps from a 1.0 ``message.sent`` delivery."""
    message = payload["message"]
    sender = message["sender"]
    text = " ".join(p["body"] for p in message["parts"] if p.get("mime_type") == "text/plain")
    return {
        "conversation": message["conversation"]["id"],
        "from": sender.get("user_id") or sender.get("name"),
        "text": text,
        "unread_by": sorted(u for u, s in message["recipient_status"].items() if s != "read"),
    }


def make_app(secret, on_message):
    """A WSGI app that verifies, parses and dispatches deliveries."""

    def app(environ, start_response):
        if environ["REQUEST_METHOD"] == "GET":  # verification challenge
            challenge = environ.get("QUERY_STRING", "").partition("verification_challenge=")[2]
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [challenge.encode("utf-8")]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        if not verify_signature(secret, raw, environ.get("HTTP_LAYER_WEBHOOK_SIGNATURE")):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"bad signature"]
        event_type = environ.get("HTTP_LAYER_WEBHOOK_EVENT_TYPE", "")
        payload = json.loads(raw)
        if event_type == "message.sent":
            on_message(summarize_message_sent(payload))
        start_response("204 No Content", [])
        return [b""]

    return app
