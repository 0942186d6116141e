"""The v1 documentation examples quoted in the spec translate to the shapes the spec gives."""

from layer_migrate import Request, Response
from layer_migrate.engine import Options, translate_payload, translate_request, translate_response
from layer_migrate.identity import BotDirectory

V11 = {"accept": "application/vnd.layer+json; version=1.1"}
PATCH = {**V11, "content-type": "application/vnd.layer-patch+json"}


def up(method, path, body, to="2.0", headers=V11, options=None):
    return translate_request(Request(method, path, headers, body), to=to, options=options or Options())


def test_4_2_create_conversation():
    t = up("POST", "/apps/A/conversations", {"participants": ["a", "b"], "distinct": False,
                                             "metadata": {"title": "Coffee"}})
    assert t.request.body == {"participants": ["layer:///identities/a", "layer:///identities/b"],
                              "distinct": False, "metadata": {"title": "Coffee"}}


def test_4_4_edit_participants():
    body = [{"operation": "add", "property": "participants", "value": "user1"},
            {"operation": "remove", "property": "participants", "value": "user2"},
            {"operation": "set", "property": "participants", "value": ["user1", "user2", "user3"]}]
    t = up("PATCH", "/apps/A/conversations/C", body, to="3.0", headers=PATCH)
    assert t.request.body == [
        {"operation": "add", "property": "participants", "id": "layer:///identities/user1"},
        {"operation": "remove", "property": "participants", "id": "layer:///identities/user2"},
        {"operation": "set", "property": "participants", "value": []},
        {"operation": "add", "property": "participants", "id": "layer:///identities/user1"},
        {"operation": "add", "property": "participants", "id": "layer:///identities/user2"},
        {"operation": "add", "property": "participants", "id": "layer:///identities/user3"}]


def test_4_5_metadata_patch_untouched():
    body = [{"operation": "set", "property": "metadata.stats.counter", "value": "10"},
            {"operation": "set", "property": "metadata.admin",
             "value": {"user_id": "fred", "hours": {"start": "9", "end": "5"}}},
            {"operation": "delete", "property": "metadata.admin"}]
    t = up("PATCH", "/apps/A/conversations/C", body, to="3.0", headers=PATCH)
    assert t.request.body == body


def test_5_2_send_message_user_and_bot():
    t = up("POST", "/apps/A/conversations/C/messages",
           {"sender": {"user_id": "user1"}, "parts": [{"body": "Hi", "mime_type": "text/plain"}],
            "notification": {"text": "Hi", "sound": "chime.aiff"}})
    assert t.request.body == {"sender_id": "layer:///identities/user1",
                              "parts": [{"body": "Hi", "mime_type": "text/plain"}],
                              "notification": {"text": "Hi", "sound": "chime.aiff"}}
    opts = Options(bots=BotDirectory({"t-bone": "tbone-bot"}))
    t = up("POST", "/apps/A/conversations/C/messages", {"sender": {"name": "t-bone"}, "parts": []}, options=opts)
    assert t.request.body == {"sender_id": "layer:///identities/tbone-bot", "parts": []}
    assert [p.to_json() for p in t.prerequisites] == [
        {"kind": "ensure_identity", "user_id": "tbone-bot", "display_name": "t-bone", "identity_type": "bot"}]


def test_5_5_delayed_bot_message():
    opts = Options(bots=BotDirectory({"nicebot": "SenderBot"}))
    sched = {"delay_in_seconds": 5.0, "typing_indicator_in_seconds": 3.0}
    t = up("POST", "/apps/A/conversations/C/messages",
           {"sender": {"name": "nicebot"}, "parts": [], "schedule": sched}, options=opts)
    assert t.request.body == {"sender_id": "layer:///identities/SenderBot", "parts": [], "schedule": sched}


def test_5_3_downgrade_sender_and_recipient_status():
    v2 = {"id": "layer:///messages/m", "parts": [],
          "sender": {"id": "layer:///identities/bcd5", "url": "…", "user_id": "bcd5", "display_name": "User A",
                     "avatar_url": "…"},
          "recipient_status": {"layer:///identities/2dfb": "sent", "layer:///identities/bcd5": "read"}}
    out = translate_payload("message", v2, source="2.0", to="1.1").payload
    assert out["sender"] == {"user_id": "bcd5", "name": None}
    assert out["recipient_status"] == {"2dfb": "sent", "bcd5": "read"}


def test_7_2_notification_override_shapes():
    a = {"text": "default", "sound": "a.aiff",
         "recipients": {"klaus_stube": {"text": "hallo welt", "sound": "ping.aiff"},
                        "luigi_puccini": {"text": "ciao mondo"}}}
    b = {"text": "default", "sound": "a.aiff",
         "recipients": [{"user_id": "klaus_stube", "text": "hallo welt", "sound": "ping.aiff"},
                        {"user_id": "luigi_puccini", "text": "ciao mondo"}]}
    c = {"text": "default", "sound": "a.aiff",
         "recipients": [{"recipient": "layer:///identities/klaus_stube", "text": "hallo welt", "sound": "ping.aiff"},
                        {"recipient": "layer:///identities/luigi_puccini", "text": "ciao mondo"}]}
    for shape in (a, b):
        t = up("POST", "/apps/A/conversations/C/messages",
               {"sender": {"user_id": "u"}, "parts": [], "notification": shape})
        assert t.request.body["notification"] == c


def test_7_3_notifications():
    t = up("POST", "/apps/A/notifications", {"recipients": ["1234", "5678"], "notification": {"text": "x"}})
    assert t.request.body == {"recipients": ["layer:///identities/1234", "layer:///identities/5678"],
                              "notification": {"text": "x"}}


def test_9_blocks_post_delete_bulk_and_list():
    t = up("POST", "/apps/A/users/namespace%2F12345/blocks", {"user_id": "blockme987"}, to="3.0")
    assert (t.request.method, t.request.path) == ("PATCH", "/apps/A/users/namespace%2F12345")
    assert t.request.body == [{"operation": "add", "property": "blocks", "id": "layer:///identities/blockme987"}]
    t = up("DELETE", "/apps/A/users/owner/blocks/namespace%2F12345", None, to="3.0")
    assert t.request.body == [{"operation": "remove", "property": "blocks",
                               "id": "layer:///identities/namespace%2F12345"}]
    bulk = [{"operation": "add", "property": "blocks", "value": "blockMe1"},
            {"operation": "remove", "property": "blocks", "value": "unblockMe"},
            {"operation": "set", "property": "blocks", "value": ["blockMe1", "blockMe2"]}]
    t = up("PATCH", "/apps/A/users/owner", bulk, to="3.0", headers=PATCH)
    assert t.request.body == [
        {"operation": "add", "property": "blocks", "id": "layer:///identities/blockMe1"},
        {"operation": "remove", "property": "blocks", "id": "layer:///identities/unblockMe"},
        {"operation": "set", "property": "blocks", "value": []},
        {"operation": "add", "property": "blocks", "id": "layer:///identities/blockMe1"},
        {"operation": "add", "property": "blocks", "id": "layer:///identities/blockMe2"}]
    lst = [{"id": "layer:///identities/abc1234", "user_id": "abc1234", "url": "…", "display_name": "ABC",
            "avatar_url": ""}]
    r = translate_response(Request("GET", "/apps/A/users/o/blocks", V11), Response(200, {}, lst), source="3.0")
    assert r.response.body == [{"user_id": "abc1234"}]


def test_3_4_identity_create_and_get():
    body = {"display_name": "Frodo the Dodo", "first_name": "Frodo", "metadata": {"level": "35"}}
    t = up("POST", "/apps/A/users/frodo/identity", body, to="3.0")
    assert t.request.body == {**body, "identity_type": "user"}
    v3 = {"id": "layer:///identities/frodo", "url": "https://api.layer.com/apps/A/users/frodo/identity",
          "user_id": "frodo", "display_name": "Frodo the Dodo", "avatar_url": None, "first_name": "Frodo",
          "last_name": None, "phone_number": None, "email_address": None, "identity_type": "user",
          "public_key": None, "metadata": None}
    r = translate_response(Request("GET", "/apps/A/users/frodo/identity", V11), Response(200, {}, v3), source="3.0")
    assert r.response.body == {"display_name": "Frodo the Dodo", "avatar_url": None, "first_name": "Frodo",
                               "last_name": None, "phone_number": None, "email_address": None,
                               "public_key": None, "metadata": None}


def test_1_2_accept_variants_and_406():
    t = up("GET", "/apps/A/conversations/C", None, to="3.0",
           headers={"accept": "application/vnd.layer+json; charset=UTF-8; version=1.0"})
    assert t.request.headers["accept"] == "application/vnd.layer+json; version=3.0"
    t = up("POST", "/apps/A/webhooks", {"version": "1.0", "target_url": "https://x", "events": ["message.sent"],
                                        "secret": "s"}, to="3.0",
           headers={"accept": "application/vnd.layer.webhooks+json; version=1.0"})
    assert t.request.headers["accept"] == "application/vnd.layer.webhooks+json; version=3.0"
    assert t.request.body["version"] == "3.0" and t.request.body["events"] == ["Message.created"]
