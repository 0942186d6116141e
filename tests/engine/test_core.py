"""The engine core: the public translate_* API on the spec's own before/after examples."""

import pytest

from layer_migrate import LayerError, Request, Response
from layer_migrate.engine import (
    EnsureIdentity,
    Options,
    detect_version,
    translate_payload,
    translate_request,
    translate_response,
)
from layer_migrate.identity import BotDirectory

V11 = {"accept": "application/vnd.layer+json; version=1.1"}


def test_blocks_post_becomes_patch_with_status_mapping():
    req = Request("POST", "/apps/A/users/u1/blocks", V11, {"user_id": "x"})
    t = translate_request(req, to="3.0", options=Options(bots=BotDirectory({"Support": "bot-support"})))
    assert t.request.method == "PATCH"
    assert t.request.path == "/apps/A/users/u1"
    assert t.request.headers["content-type"] == "application/vnd.layer-patch+json"
    assert t.request.headers["accept"] == "application/vnd.layer+json; version=3.0"
    assert t.request.body == [{"operation": "add", "property": "blocks", "id": "layer:///identities/x"}]
    assert t.applied[0] == "hdr.accept.v2" and "v2.blocks.post_to_patch" in t.applied
    assert (t.source, t.target, t.endpoint) == ("1.1", "3.0", "blocks.create")  # the client's endpoint
    r = translate_response(req, Response(202, {}, None), source="3.0", to="1.1")
    assert r.response.status == 204 and r.response.body is None
    assert r.applied == ["v2.blocks.post_to_patch"]
    assert r.lossy and "asynchronously" in r.lossy[0]


def test_bot_sender_returns_prerequisite():
    opts = Options(bots=BotDirectory({"Support": "bot-support"}))
    req = Request("POST", "/apps/A/conversations/C/messages", V11,
                  {"sender": {"name": "Support"}, "parts": [{"body": "hi", "mime_type": "text/plain"}]})
    t = translate_request(req, to="3.0", options=opts)
    assert t.request.body == {"sender_id": "layer:///identities/bot-support",
                              "parts": [{"body": "hi", "mime_type": "text/plain"}]}
    assert t.prerequisites == [EnsureIdentity(user_id="bot-support", display_name="Support")]
    p = t.prerequisites[0].to_request("A", "3.0")
    assert (p.method, p.path) == ("POST", "/apps/A/users/bot-support/identity")
    assert p.body == {"display_name": "Support", "identity_type": "bot"}
    assert t.prerequisites[0].to_request("A", "2.0", Options(identity_type_field="type")).body == {
        "display_name": "Support", "type": "Bot"}
    # the downgraded response maps the bot back to its name
    msg = {"id": "layer:///messages/m", "sender": {"id": "layer:///identities/bot-support",
                                                   "user_id": "bot-support", "display_name": "Support"}}
    r = translate_response(req, Response(201, {}, msg), source="3.0", options=opts)
    assert r.response.body["sender"] == {"user_id": None, "name": "Support"}


def test_default_bot_id_is_deterministic():
    req = Request("POST", "/apps/A/conversations/C/messages", V11, {"sender": {"name": "support"}, "parts": []})
    a = translate_request(req, to="2.0", options=Options())
    b = translate_request(req, to="2.0", options=Options())
    assert a.request.body == b.request.body == {"sender_id": "layer:///identities/bot-support", "parts": []}


def test_unchanged_at_target_and_unknown_endpoint():
    req = Request("GET", "/apps/A/conversations/C", {"accept": "application/vnd.layer+json; version=3.0"})
    t = translate_request(req, to="3.0")
    assert t.applied == [] and t.request is req
    odd = Request("GET", "/apps/A/nowhere", V11, {"x": 1})
    t = translate_request(odd, to="3.0")
    assert t.endpoint is None and t.request.body == {"x": 1}
    assert t.request.headers["accept"].endswith("version=3.0")
    assert "unknown endpoint: passed through" in t.lossy


def test_version_detection():
    assert detect_version(Request("GET", "/apps/A/conversations/C")) == "1.0"
    assert detect_version(Request("GET", "/apps/A/conversations/C", V11)) == "1.1"
    with pytest.raises(LayerError) as exc:
        detect_version(Request("GET", "/apps/A/conversations/C",
                               {"accept": "application/vnd.layer+json; version=4.0"}))
    assert exc.value.status == 406 and exc.value.id == "invalid_header"
    wh = Request("GET", "/apps/A/webhooks", {"accept": "application/vnd.layer.webhooks+json; version=1.0"})
    assert detect_version(wh) == "1.0"


def test_missing_accept_is_injected():
    t = translate_request(Request("GET", "/apps/A/conversations/C"), to="3.0")
    assert t.request.headers["accept"] == "application/vnd.layer+json; version=3.0"
    assert t.source == "1.0" and "hdr.accept.missing" in t.applied


def test_message_downgrade_spec_example():
    v2 = {"id": "layer:///messages/940d", "conversation": {"id": "layer:///conversations/e67b", "url": "u"},
          "parts": [{"id": "layer:///messages/940d/parts/aa-bb", "mime_type": "text/plain", "body": "x",
                     "updated_at": "t", "url": "u", "message_url": "m"}],
          "sent_at": "2014-09-09T04:44:47+00:00",
          "sender": {"id": "layer:///identities/bcd5", "url": "…", "user_id": "bcd5",
                     "display_name": "User A", "avatar_url": "…"},
          "recipient_status": {"layer:///identities/2dfb": "sent", "layer:///identities/bcd5": "read"},
          "position": 1, "updated_at": "t", "receipts_url": "r", "received_at": None, "is_unread": None}
    p = translate_payload("message", v2, source="3.0", to="1.0")
    assert p.payload == {
        "id": "layer:///messages/940d", "conversation": {"id": "layer:///conversations/e67b", "url": "u"},
        "parts": [{"id": "layer:///messages/940d/parts/0", "mime_type": "text/plain", "body": "x"}],
        "sent_at": "2014-09-09T04:44:47+00:00", "sender": {"user_id": "bcd5", "name": None},
        "recipient_status": {"2dfb": "sent", "bcd5": "read"}, "received_at": None, "is_unread": None}
    assert "v3.part_ids.index" in p.applied and any("part ids" in x for x in p.lossy)
    assert v2["sender"]["user_id"] == "bcd5"  # input untouched


def test_bad_input_is_a_layer_error():
    req = Request("POST", "/apps/A/conversations/C/messages", V11,
                  {"sender": {"name": "n", "user_id": "u"}, "parts": []})
    with pytest.raises(LayerError) as exc:
        translate_request(req, to="3.0")
    assert exc.value.id == "invalid_property" and exc.value.data == {"property": "sender"}
    req = Request("POST", "/apps/A/announcements", V11, {"recipients": "everyone", "sender": {"name": "A"}})
    with pytest.raises(LayerError) as exc:
        translate_request(req, to="3.0")
    assert exc.value.data == {"property": "recipients"}
    with pytest.raises(LayerError):
        translate_request(Request("GET", "/apps/A/conversations/C", V11), to="9.9")


def test_malformed_raw_json_and_invalid_base64():
    req = Request("POST", "/apps/A/conversations", V11, None, b'{"participants": [')
    with pytest.raises(LayerError) as exc:
        translate_request(req, to="3.0")
    assert exc.value.id == "invalid_request" and exc.value.data == {"property": "body"} and exc.value.status == 400
    ok = Request("POST", "/apps/A/conversations", V11, None, b'{"participants": ["a"]}')
    assert translate_request(ok, to="3.0").request.body == {"participants": ["layer:///identities/a"]}
    bad = Request("POST", "/apps/A/conversations/C/messages", V11,
                  {"sender": {"user_id": "u"}, "parts": [{"mime_type": "x", "body": "%%%", "encoding": "base64"}]})
    with pytest.raises(LayerError) as exc:
        translate_request(bad, to="2.0")
    assert exc.value.data == {"property": "parts[0].body"}


def test_stored_webhook_delivery_payload():
    body = {"event": {"type": "Conversation.deleted", "id": "e", "created_at": "t"},
            "conversation": {"id": "layer:///conversations/c", "participants": [{"id": "layer:///identities/a"}]}}
    p = translate_payload("webhook_delivery", body, source="3.0", to="1.0")
    assert p.payload == [{"type": "conversation.deleted",
                          "body": {"event": {"type": "conversation.deleted", "id": "e", "created_at": "t"},
                                   "conversation": {"id": "layer:///conversations/c", "participants": ["a"]}}}]
    with pytest.raises(LayerError):
        translate_payload("webhook_delivery", {"conversation": {}}, source="3.0", to="1.0")


@pytest.mark.parametrize(("client", "expected"), [
    ("1.0", "1.0"), ("1.1", "1.1"), ("2.0", "2.0"), ("3.0", "3.0")])
def test_downgraded_response_content_type_is_the_clients_version(client, expected):
    req = Request("GET", "/apps/A/conversations/c", {"accept": f"application/vnd.layer+json; version={client}"})
    resp = Response(404, {"content-type": "application/vnd.layer+json; version=3.0"},
                    {"id": "not_found", "code": 102, "message": "m", "url": "u", "data": {}})
    r = translate_response(req, resp, source="3.0")
    assert r.response.headers["content-type"] == f"application/vnd.layer+json; version={expected}"


def test_webhooks_response_content_type_goes_to_webhooks_1_0():
    req = Request("GET", "/apps/A/webhooks", {"accept": "application/vnd.layer.webhooks+json; version=1.0"})
    resp = Response(200, {"content-type": "application/vnd.layer.webhooks+json; version=3.0"}, [])
    r = translate_response(req, resp, source="3.0")
    assert r.response.headers["content-type"] == "application/vnd.layer.webhooks+json; version=1.0"


def test_non_layer_content_type_is_left_alone():
    req = Request("GET", "/apps/A/conversations/c", {"accept": "application/vnd.layer+json; version=1.0"})
    r = translate_response(req, Response(502, {"content-type": "text/html"}, None), source="3.0")
    assert r.response.headers["content-type"] == "text/html"
