"""Every INFERRED choice in Options changes behaviour the way its docstring says."""

import pytest

from layer_migrate import LayerError, Request, Response
from layer_migrate.engine import (
    EnsureIdentity,
    EnsureParticipant,
    Options,
    translate_payload,
    translate_request,
    translate_response,
    translate_webhook,
)
from layer_migrate.identity import BotDirectory

V11 = {"accept": "application/vnd.layer+json; version=1.1"}
MSG3 = {"id": "layer:///messages/m", "sender": {"id": "layer:///identities/u", "user_id": "u"},
        "parts": [{"id": "layer:///messages/m/parts/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "mime_type": "text/plain",
                   "body": "x"}], "received_at": "t", "is_unread": True, "recipient_status": {}}


def test_identity_ids_in_requests_false_sends_bare_user_ids():
    req = Request("POST", "/apps/A/conversations", V11, {"participants": ["a"]})
    assert translate_request(req, to="3.0", options=Options(identity_ids_in_requests=False)).request.body == {
        "participants": ["a"]}


def test_part_ids_keep():
    out = translate_payload("message", MSG3, "3.0", "1.1", Options(part_ids="keep")).payload
    assert out["parts"][0]["id"] == MSG3["parts"][0]["id"]


def test_system_unread_fields_strip_vs_null():
    assert translate_payload("message", MSG3, "3.0", "1.1").payload["is_unread"] is None
    out = translate_payload("message", MSG3, "3.0", "1.1", Options(system_unread_fields="strip")).payload
    assert "is_unread" not in out and "received_at" not in out
    assert translate_payload("message", MSG3, "3.0", "1.1", perspective="user").payload["is_unread"] is True


def test_strip_identity_fields_false_keeps_extras():
    ident = {"id": "layer:///identities/u", "user_id": "u", "display_name": "U", "identity_type": "user"}
    req = Request("GET", "/apps/A/users/u/identity", V11)
    kept = translate_response(req, Response(200, {}, ident), "3.0", options=Options(strip_identity_fields=False))
    assert kept.response.body == ident
    assert translate_response(req, Response(200, {}, ident), "3.0").response.body == {"display_name": "U"}


def test_rewrite_error_url():
    err = {"id": "not_found", "code": 102, "message": "x", "url": "http://docs.layer.com/reference/server_api"}
    req = Request("GET", "/apps/A/conversations/C", V11)
    assert translate_response(req, Response(404, {}, err), "3.0").response.body["url"] == \
        "https://developer.layer.com/docs/platform"
    off = translate_response(req, Response(404, {}, err), "3.0", options=Options(rewrite_error_url=False))
    assert off.response.body == err


def test_provision_bot_as_participant():
    opts = Options(bots=BotDirectory({"Support": "bot-s"}), provision_bot_as_participant=True)
    req = Request("POST", "/apps/A/conversations/C1/messages", V11, {"sender": {"name": "Support"}, "parts": []})
    t = translate_request(req, to="3.0", options=opts)
    assert t.prerequisites == [EnsureIdentity("bot-s", "Support"), EnsureParticipant("C1", "bot-s")]
    p = t.prerequisites[1].to_request("A", "3.0")
    assert (p.method, p.path, p.body) == ("PATCH", "/apps/A/conversations/C1",
                                          [{"operation": "add", "property": "participants",
                                            "id": "layer:///identities/bot-s"}])
    assert p.headers["content-type"] == "application/vnd.layer-patch+json"


def test_strict_bot_directory_refuses_unknown_names():
    req = Request("POST", "/apps/A/conversations/C/messages", V11, {"sender": {"name": "Ghost"}, "parts": []})
    with pytest.raises(LayerError) as exc:
        translate_request(req, to="3.0", options=Options(bots=BotDirectory({}, strict=True)))
    assert exc.value.data == {"property": "sender.name"}


def test_emulate_v1_errors_false_forwards():
    req = Request("POST", "/apps/A/conversations/C/messages", V11, {"parts": []})
    t = translate_request(req, to="3.0", options=Options(emulate_v1_errors=False))
    assert t.request.body == {"parts": []}
    with pytest.raises(LayerError):
        translate_request(req, to="3.0")


def test_conversation_updated_default_and_single_key_sender():
    conv = {"id": "layer:///conversations/c", "participants": [], "distinct": False, "metadata": {}}
    body = {"event": {"type": "Conversation.updated", "id": "e"}, "conversation": conv}
    w = translate_webhook("Conversation.updated", body, "3.0", options=Options(
        conversation_updated_default="conversation.updated.participants"))
    assert [t for t, _ in w.events] == ["conversation.updated.participants"] and w.lossy
    msg = {"id": "layer:///messages/m", "conversation": {"id": "layer:///conversations/c"}, "parts": [],
           "sender": {"id": "layer:///identities/u", "user_id": "u"}}
    ev = {"event": {"type": "Message.created", "id": "e"}, "message": msg}
    single = translate_webhook("Message.created", ev, "3.0").events[0][1]["message"]["sender"]
    both = translate_webhook("Message.created", ev, "3.0", options=Options(webhook_single_key_sender=False))
    assert single == {"user_id": "u"} and both.events[0][1]["message"]["sender"] == {"user_id": "u", "name": None}


def test_autocreate_users_returns_a_retry_prerequisite():
    req = Request("GET", "/apps/A/users/ghost/badge", V11)
    err = {"id": "not_found", "code": 102, "message": "x", "url": "https://developer.layer.com/docs/platform"}
    assert translate_response(req, Response(404, {}, err), "3.0").prerequisites == []
    r = translate_response(req, Response(404, {}, err), "3.0", options=Options(autocreate_users=True))
    assert r.prerequisites == [EnsureIdentity("ghost", "ghost", identity_type="user")]
    assert r.to_json()["prerequisites"][0]["identity_type"] == "user"


def test_webhook_events_in_config_off():
    reg = {"version": "1.0", "target_url": "https://x", "secret": "s", "events": ["message.read"]}
    req = Request("POST", "/apps/A/webhooks", {"accept": "application/vnd.layer.webhooks+json; version=1.0"}, reg)
    on = translate_request(req, to="3.0").request.body
    off = translate_request(req, to="3.0", options=Options(webhook_events_in_config=False)).request.body
    assert on["config"] == {"layer_migrate_v1": {"events": ["message.read"], "config": False}}
    assert "config" not in off and off["events"] == ["Receipt.created"]


def test_bad_option_values_are_refused():
    for kw in ({"part_ids": "uuid"}, {"identity_type_field": "kind"}, {"system_unread_fields": "zero"}):
        with pytest.raises(ValueError):
            Options(**kw)


# ---- Options.as_of (issue 9 §4) ----------------------------------------------------------------
def test_readme_dated_table_is_the_data_table():
    import re
    from pathlib import Path

    from layer_migrate.options import DATED_BEHAVIOURS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d{4}-\d\d-\d\d) \| (.+?) \| `(\w+)=True` \| (R\d+) \|$", readme, re.M)
    assert rows == [(d.changed.isoformat(), d.behaviour, d.option, d.spec) for d in DATED_BEHAVIOURS]
    assert all(d.before is True for d in DATED_BEHAVIOURS)  # the README column says "=True"


@pytest.mark.parametrize("behaviour", range(3))
def test_each_dated_option_follows_the_date(behaviour):
    from datetime import date, timedelta

    from layer_migrate.options import DATED_BEHAVIOURS

    d = DATED_BEHAVIOURS[behaviour]
    assert getattr(Options(), d.option) is (not d.before)                       # latest
    assert getattr(Options(as_of=d.changed - timedelta(days=1)), d.option) is d.before
    assert getattr(Options(as_of=d.changed), d.option) is (not d.before)        # the day it changed
    assert getattr(Options(as_of=date(2014, 1, 1), **{d.option: False}), d.option) is False  # explicit


def test_as_of_drives_translation_before_and_after():
    req = Request("GET", "/apps/A/conversations/c", V11)
    conv = {"id": "layer:///conversations/c", "participants": [], "distinct": True, "metadata": None}
    early = translate_response(req, Response(200, {}, conv), "3.0", options=Options(as_of="2016-06-20"))
    late = translate_response(req, Response(200, {}, conv), "3.0", options=Options(as_of="2016-06-21"))
    assert "metadata" not in early.response.body and late.response.body["metadata"] is None
    req = Request("GET", "/apps/A/users/ghost/conversations", V11)
    nf = {"id": "not_found", "code": 102, "message": "User not found", "url": "u", "data": {}}
    early = translate_response(req, Response(404, {}, nf), "3.0", options=Options(as_of="2016-01-01"))
    late = translate_response(req, Response(404, {}, nf), "3.0", options=Options(as_of="2016-07-01"))
    assert [p.key for p in early.prerequisites] and late.prerequisites == []


def test_as_of_distinct_303_before_september_2015():
    req = Request("POST", "/apps/A/conversations", V11, {"participants": ["a", "b"], "distinct": True})
    conv = {"id": "layer:///conversations/c", "url": "https://x/apps/A/conversations/c", "participants": [],
            "distinct": True}
    early = translate_response(req, Response(200, {}, conv), "3.0", options=Options(as_of="2015-09-15"))
    late = translate_response(req, Response(200, {}, conv), "3.0", options=Options(as_of="2015-09-16"))
    assert early.response.status == 303 and late.response.status == 200


def test_at_redates_but_keeps_explicit_options():
    o = Options(as_of="2015-01-01", drop_nulls=False)
    assert (o.drop_nulls, o.distinct_303) == (False, True)
    later = o.at("2017-01-01")
    assert (later.drop_nulls, later.distinct_303, later.autocreate_users) == (False, False, False)
    assert later.describe()["as_of"] == "2017-01-01"


@pytest.mark.parametrize("bad", ["2016-13-01", "yesterday", 20160101])
def test_as_of_must_be_a_date(bad):
    with pytest.raises(ValueError, match="as_of must be a date"):
        Options(as_of=bad)


def test_readme_options_table_lists_every_option():
    import re
    from dataclasses import fields
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)` \| ", readme.split("**INFERRED behaviours**", 1)[1], re.M))
    wanted = {f.name for f in fields(Options) if f.init and f.name != "bots"}
    assert wanted <= listed, sorted(wanted - listed)
