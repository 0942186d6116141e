"""Differential check against the emulator's independent per-version renderer (docs/architecture.md).

The emulator renders every version from its own model and the spec; downgrading its 3.0 (and 2.0)
rendering with the engine must give exactly its 1.x rendering. A bot message is stored the way
each path stores it: a v1 ``sender.name`` at 1.0, the provisioned bot identity at 3.0 (R22).
"""

import copy

import pytest

from layer_migrate.emulator.render import Renderer
from layer_migrate.engine import Options, translate_payload
from layer_migrate.identity import default_bot_user_id

R = Renderer("https://api.layer.com", "00000000-0000-4000-8000-00000000a991")
USERS = {"alice": {"user_id": "alice", "identity": {"display_name": "Alice", "avatar_url": "https://a/x.png",
                                                     "first_name": "A", "metadata": {"k": "v"}}},
         "b/ob.x": {"user_id": "b/ob.x", "identity": {"display_name": "Bob"}},
         "carl": {"user_id": "carl"}}
BOT = default_bot_user_id("Support Bot")
USERS_V3 = {**USERS, BOT: {"user_id": BOT, "identity": {"display_name": "Support Bot", "identity_type": "bot"}}}
CONV = {"uuid": "c1", "created_at": "2017-01-01T00:00:00Z", "participants": ["alice", "b/ob.x", "carl"],
        "distinct": True, "metadata": {"title": "x", "nested": {"a": "b"}}, "significance": {"level": 1}}
PARTS = [{"uuid": "5f2b0b50-0bd2-4b4f-9c3e-0f3a8b1c2d3e", "mime_type": "text/plain", "body": "hi"},
         {"uuid": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "mime_type": "image/png", "body": "YW55",
          "encoding": "base64", "updated_at": "2017-02-01T00:00:00Z"}]
MSG = {"uuid": "m1", "conversation": "c1", "parts": PARTS, "sent_at": "2017-01-02T00:00:00Z",
       "sender": {"user_id": "alice"}, "recipient_status": {"alice": "read", "b/ob.x": "delivered", "carl": "sent"},
       "seq": 7, "received_at": {"carl": "2017-01-02T00:00:01Z"}}


def bot_msg(version):
    m = copy.deepcopy(MSG)
    m["sender"] = {"name": "Support Bot"} if version.startswith("1") else {"user_id": BOT}
    return m


def down(kind, body, source, perspective="system"):
    return translate_payload(kind, body, source=source, to="1.1", options=Options(), perspective=perspective).payload


@pytest.mark.parametrize("source", ["2.0", "3.0"])
@pytest.mark.parametrize("url_kind", ["send", "get"])
def test_message(source, url_kind):
    assert down("message", R.message(source, MSG, USERS, url_kind=url_kind), source) == \
        R.message("1.1", MSG, USERS, url_kind=url_kind)


@pytest.mark.parametrize("source", ["2.0", "3.0"])
def test_bot_message(source):
    assert down("message", R.message(source, bot_msg(source), USERS_V3), source) == \
        R.message("1.1", bot_msg("1.1"), USERS)


@pytest.mark.parametrize("source", ["2.0", "3.0"])
def test_user_perspective_message_and_conversation(source):
    assert down("message", R.message(source, MSG, USERS, user="carl"), source, "user") == \
        R.message("1.1", MSG, USERS, user="carl")
    got = down("conversation", R.conversation(source, CONV, USERS, user="carl", unread=1, last_message=MSG),
               source, "user")
    assert got == R.conversation("1.1", CONV, USERS, user="carl", unread=1, last_message=MSG)


@pytest.mark.parametrize("source", ["2.0", "3.0"])
def test_conversation_system(source):
    assert down("conversation", R.conversation(source, CONV, USERS), source) == R.conversation("1.1", CONV, USERS)


@pytest.mark.parametrize("source", ["2.0", "3.0"])
def test_announcement(source):
    ann = {"uuid": "a1", "sent_at": "2017-01-01T00:00:00Z", "recipients": ["alice", "b/ob.x"], "parts": PARTS}
    v1 = R.announcement("1.1", {**ann, "sender": {"name": "Support Bot"}}, USERS)
    assert down("announcement", R.announcement(source, {**ann, "sender": {"user_id": BOT}}, USERS_V3), source) == v1


@pytest.mark.parametrize("source", ["2.0", "3.0"])
def test_identity_and_user_status(source):
    user = USERS["alice"]
    assert down("identity", R.identity(source, user), source) == R.identity("1.1", user)
    assert down("user", R.user_status(source, user), source) == R.user_status("1.1", user)


@pytest.mark.parametrize("source", ["2.0", "3.0"])
def test_blocks(source):
    blocked = ["b/ob.x", "carl"]
    v3 = [R.basic_identity(u, USERS) for u in blocked]
    assert down("block", v3, source) == [{"user_id": u} for u in blocked]


# ---- webhook deliveries: the emulator's 3.0 payloads, downgraded, equal its 1.0 payloads ----------
class _Store:
    def __init__(self, users, conv, msg):
        self._users, self._conv, self._msg = users, conv, msg

    def conversation(self, _):
        return self._conv

    def message(self, _):
        return self._msg

    def users_by_id(self, ids):
        return {u: self._users[u] for u in ids if u in self._users}

    def user(self, uid):
        return self._users.get(uid)


class _App:
    def __init__(self, users, msg):
        self.renderer, self.store = R, _Store(users, CONV, msg)


def _strip_ids(events):
    out = []
    for t, b in events:
        b = copy.deepcopy(b)
        b["event"].pop("id", None)
        b["event"].pop("created_at", None)
        out.append((t, b))
    return out


@pytest.mark.parametrize("event", [
    {"kind": "message.sent", "message": "m1"},
    {"kind": "message.deleted", "message": "m1"},
    {"kind": "conversation.created", "conversation": "c1"},
    {"kind": "conversation.deleted", "conversation": "c1"},
    {"kind": "conversation.updated", "conversation": "c1",
     "changes": [{"property": "metadata", "before": {}, "after": {"title": "x"}},
                 {"property": "participants", "added": ["carl"], "removed": []}]},
    {"kind": "receipt", "message": "m1", "user": "carl", "receipt": "read"},
    {"kind": "receipt", "message": "m1", "user": "carl", "receipt": "delivery"},
], ids=lambda e: e["kind"] + e.get("receipt", ""))
@pytest.mark.parametrize("bot", [False, True])
def test_webhook_payloads(event, bot):
    from layer_migrate.emulator.webhooks import payloads
    from layer_migrate.engine import translate_webhook

    v1 = payloads(_App(USERS, bot_msg("1.0") if bot else MSG), event, "1.0")
    v3 = payloads(_App(USERS_V3, bot_msg("3.0") if bot else MSG), event, "3.0")
    got = []
    for t, body in v3:
        got.extend(translate_webhook(t, body, source="3.0", to="1.0", options=Options()).events)
    assert _strip_ids(got) == _strip_ids(v1)
