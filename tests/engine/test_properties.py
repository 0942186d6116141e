"""Property tests (hypothesis): schema validity of upgrades, lossless round trips, error discipline."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layer_migrate import LayerError, Request, Response
from layer_migrate.engine import (
    Options,
    translate_payload,
    translate_request,
    translate_response,
    translate_webhook,
)
from layer_migrate.identity import BotDirectory
from layer_migrate.routes import BY_NAME, match
from layer_migrate.rulebook import OBJECT_KINDS, OBJECT_LOCATIONS
from layer_migrate.schemas import validate

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

user_ids = st.text(alphabet="abcXYZ019-_.!~*'()/ +%?é", min_size=1, max_size=10)
names = st.text(alphabet="abc XYZ-!é", min_size=1, max_size=12).filter(lambda s: s.strip())
texts = st.text(max_size=20)
parts = st.lists(st.one_of(
    st.fixed_dictionaries({"body": texts, "mime_type": st.just("text/plain")}),
    st.fixed_dictionaries({"body": st.just("YW55"), "mime_type": st.just("image/png"), "encoding": st.just("base64")}),
    st.fixed_dictionaries({"mime_type": st.just("image/png"),
                           "content": st.fixed_dictionaries({"id": st.just("layer:///content/x"),
                                                             "size": st.integers(0, 10**6)})})),
    min_size=1, max_size=3)
overrides_array = st.lists(st.fixed_dictionaries({"user_id": user_ids}, optional={"text": texts, "sound": texts}),
                           max_size=3)
overrides_map = st.dictionaries(user_ids, st.fixed_dictionaries({}, optional={"text": texts}), max_size=3)
notification = st.fixed_dictionaries({}, optional={"text": texts, "sound": texts, "title": texts,
                                                   "recipients": overrides_array})
notification_any = st.fixed_dictionaries({}, optional={"text": texts, "recipients": st.one_of(overrides_array,
                                                                                               overrides_map)})
metadata = st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=4),
                           st.one_of(texts, st.dictionaries(st.just("k"), texts, max_size=1)), max_size=3)
sender = st.one_of(st.fixed_dictionaries({"user_id": user_ids}), st.fixed_dictionaries({"name": names}))

BODIES = {
    "conversations.create": st.fixed_dictionaries({"participants": st.lists(user_ids, min_size=1, max_size=5)},
                                                  optional={"distinct": st.booleans(), "metadata": metadata}),
    "messages.send": st.fixed_dictionaries({"sender": sender, "parts": parts},
                                           optional={"notification": notification,
                                                     "schedule": st.fixed_dictionaries(
                                                         {"delay_in_seconds": st.floats(1, 300)})}),
    "announcements.send": st.fixed_dictionaries({"recipients": st.lists(user_ids, min_size=1, max_size=4),
                                                 "sender": st.fixed_dictionaries({"name": names}), "parts": parts},
                                                optional={"notification": notification}),
    "notifications.send": st.fixed_dictionaries({"recipients": st.lists(user_ids, min_size=1, max_size=4),
                                                 "notification": notification}),
    "conversations.patch": st.lists(st.one_of(
        st.fixed_dictionaries({"operation": st.sampled_from(["add", "remove"]), "property": st.just("participants"),
                               "value": user_ids}),
        st.fixed_dictionaries({"operation": st.just("set"), "property": st.just("metadata.title"), "value": texts}),
        st.fixed_dictionaries({"operation": st.just("delete"), "property": st.just("metadata.old")})), max_size=5),
    "users.patch": st.lists(st.one_of(
        st.fixed_dictionaries({"operation": st.sampled_from(["add", "remove"]), "property": st.just("blocks"),
                               "value": user_ids}),
        st.fixed_dictionaries({"operation": st.just("set"), "property": st.just("suspended"), "value": st.booleans()})),
        max_size=5),
    "blocks.create": st.fixed_dictionaries({"user_id": user_ids}),
}
#: endpoint (after translation) → request schema kind
KIND = {"conversations.create": "conversation_request", "messages.send": "message_request",
        "announcements.send": "announcement_request", "notifications.send": "notification_request",
        "conversations.patch": "conversation_patch", "users.patch": "user_patch", "blocks.create": "block_request"}
PATHS = {"conversations.create": "/apps/A/conversations", "messages.send": "/apps/A/conversations/C/messages",
         "announcements.send": "/apps/A/announcements", "notifications.send": "/apps/A/notifications",
         "conversations.patch": "/apps/A/conversations/C", "users.patch": "/apps/A/users/owner",
         "blocks.create": "/apps/A/users/owner/blocks"}
V11 = {"accept": "application/vnd.layer+json; version=1.1"}

endpoint_and_body = st.sampled_from(sorted(BODIES)).flatmap(lambda e: st.tuples(st.just(e), BODIES[e]))


def _req(endpoint, body):
    return Request(BY_NAME[endpoint].method, PATHS[endpoint], V11, body)


@SETTINGS
@given(endpoint_and_body, st.sampled_from(["2.0", "3.0"]))
def test_upgraded_v1_requests_validate_against_the_target_schema(eb, target):
    endpoint, body = eb
    assert validate("1.1", KIND[endpoint], body) == [], "the generator must produce valid v1 bodies"
    t = translate_request(_req(endpoint, body), to=target, options=Options())
    assert t.endpoint == endpoint
    sent = match(t.request.method, t.request.path).name  # blocks.create is sent as users.patch (R38)
    errors = validate(target, KIND[sent], t.request.body)
    assert errors == [], (json.dumps(t.request.body), errors)


@SETTINGS
@given(st.sampled_from(["conversations.create", "messages.send", "announcements.send", "notifications.send",
                        "conversations.patch", "users.patch"]).flatmap(lambda e: st.tuples(st.just(e), BODIES[e])),
       st.sampled_from(["2.0", "3.0"]))
def test_lossless_request_rules_round_trip(eb, target):
    endpoint, body = eb
    opts = Options(bots=BotDirectory())
    up = translate_request(_req(endpoint, body), to=target, options=opts)
    back_req = Request(up.request.method, up.request.path, up.request.headers, up.request.body)
    down = translate_request(back_req, to="1.1", source=target, options=opts)
    assert down.request.body == body


v1_message = st.fixed_dictionaries({
    "id": st.just("layer:///messages/m1"), "url": st.just("https://api.layer.com/apps/A/messages/m1"),
    "conversation": st.just({"id": "layer:///conversations/c", "url": "u"}),
    "parts": st.lists(st.fixed_dictionaries({"mime_type": st.just("text/plain"), "body": texts}),
                      max_size=3).map(lambda ps: [{"id": f"layer:///messages/m1/parts/{i}", **p}
                                                  for i, p in enumerate(ps)]),
    "sent_at": st.just("2016-01-01T00:00:00Z"),
    "sender": st.one_of(user_ids.map(lambda u: {"user_id": u, "name": None})),
    "recipient_status": st.dictionaries(user_ids, st.sampled_from(["sent", "delivered", "read"]), max_size=4),
    "is_unread": st.booleans(), "received_at": st.just("2016-01-01T00:00:01Z")})
v1_conversation = st.fixed_dictionaries({
    "id": st.just("layer:///conversations/c"), "participants": st.lists(user_ids, max_size=4, unique=True),
    "distinct": st.booleans(), "metadata": metadata})


@SETTINGS
@given(st.one_of(st.tuples(st.just("message"), v1_message), st.tuples(st.just("conversation"), v1_conversation)),
       st.sampled_from(["2.0", "3.0"]))
def test_stored_payloads_round_trip(kb, newer):
    kind, obj = kb
    up = translate_payload(kind, obj, source="1.1", to=newer, perspective="user").payload
    assert validate(newer, kind, up) == []
    assert translate_payload(kind, up, source=newer, to="1.1", perspective="user").payload == obj


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)
shaped = st.dictionaries(st.sampled_from(["id", "sender", "participants", "recipient_status", "parts", "recipients",
                                          "last_message", "identity", "events", "version", "user_id", "data",
                                          "display_name", "changes", "receipt", "message", "conversation", "actor",
                                          "event", "significance", "position"]), json_values, max_size=6)
anything = st.one_of(json_values, shaped, st.lists(shaped, max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(BY_NAME)), anything, st.sampled_from([200, 201, 202, 204, 409, 422]),
       st.sampled_from(["2.0", "3.0"]))
def test_downgrade_raises_only_layer_errors(endpoint, body, status, source):
    template = BY_NAME[endpoint].template
    path = template.replace("{app}", "A").replace("{", "").replace("}", "")
    req = Request(BY_NAME[endpoint].method, path, V11, None)
    try:
        translate_response(req, Response(status, {}, body), source=source, to="1.0")
    except LayerError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(OBJECT_KINDS), anything, st.sampled_from(["Message.created", "Conversation.updated",
                                                                  "Receipt.created", "MessagePart.created",
                                                                  "message.sent", "Nope.x"]))
def test_payload_and_webhook_downgrade_raise_only_layer_errors(kind, body, event):
    for call in (lambda: translate_payload(kind, body, source="3.0", to="1.0"),
                 lambda: translate_webhook(event, body, source="3.0", to="1.0")):
        try:
            call()
        except LayerError:
            pass


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(OBJECT_LOCATIONS) + ["messages.send", "blocks.create", "blocks.delete",
                                                    "conversations.patch", "users.patch", "webhooks.create"]),
       anything)
def test_upgrade_of_arbitrary_bodies_raises_only_layer_errors(endpoint, body):
    template = BY_NAME[endpoint].template
    path = template.replace("{app}", "A").replace("{", "").replace("}", "")
    try:
        translate_request(Request(BY_NAME[endpoint].method, path, V11, body), to="3.0")
    except LayerError:
        pass
