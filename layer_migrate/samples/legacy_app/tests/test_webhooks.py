import io
import json

from legacy_app.webhooks import make_app, sign, summarize_message_sent, verify_signature

SECRET = "s3cret"

MESSAGE_SENT = {
    "event": {"created_at": "2016-02-01T10:00:00.000Z", "type": "message.sent",
              "id": "c12f340d-0000-4000-8000-000000000001", "actor": {"user_id": "alice"}},
    "message": {
        "id": "layer:///messages/940de862-3c96-11e4-baad-164230d1df67",
        "conversation": {"id": "layer:///conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f",
                         "url": "https://api.layer.com/apps/x/conversations/e67b5da2"},
        "parts": [{"id": "layer:///messages/940de862/parts/0", "mime_type": "text/plain", "body": "Hi"}],
        "sent_at": "2016-02-01T10:00:00+00:00",
        "sender": {"user_id": "alice"},
        "recipient_status": {"alice": "read", "bob": "sent", "carol": "delivered"},
    },
    "config": {"desk": "eu"},
}


def call(app, raw, signature, event="message.sent"):
    status = {}

    def start_response(s, headers):
        status["status"] = s

    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw),
               "HTTP_LAYER_WEBHOOK_SIGNATURE": signature, "HTTP_LAYER_WEBHOOK_EVENT_TYPE": event}
    body = b"".join(app(environ, start_response))
    return status["status"], body


def test_signature():
    raw = b'{"a": 1}'
    assert verify_signature(SECRET, raw, sign(SECRET, raw))
    assert not verify_signature(SECRET, raw, sign("other", raw))
    assert not verify_signature(SECRET, raw, None)


def test_summary_of_a_v1_delivery():
    assert summarize_message_sent(MESSAGE_SENT) == {
        "conversation": "layer:///conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f",
        "from": "alice", "text": "Hi", "unread_by": ["bob", "carol"],
    }


def test_receiver_dispatches_signed_deliveries():
    seen = []
    app = make_app(SECRET, seen.append)
    raw = json.dumps(MESSAGE_SENT).encode()
    assert call(app, raw, sign(SECRET, raw))[0].startswith("204")
    assert seen and seen[0]["from"] == "alice"
    assert call(app, raw, "0" * 40)[0].startswith("403")
    assert len(seen) == 1


def test_verification_challenge():
    app = make_app(SECRET, lambda _: None)
    out = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "QUERY_STRING": "verification_challenge=abc"},
                        lambda s, h: out.append(s)))
    assert body == b"abc" and out == ["200 OK"]
