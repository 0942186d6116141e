"""The ``_layer_*`` helpers the codemod writes into files (issue 15 class 4): executed, not read.

They must keep the 1.x behaviour for every input the original code accepted: a string passed as
participants is not split into characters (it reaches the server unchanged and is rejected there,
as in 1.x); an id already in identity form is never prefixed twice (R11/R12); the read helpers
return 1.x shapes unchanged, so they are safe on answers of either version.
"""

from __future__ import annotations

import libcst as cst
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layer_migrate.codemod.prelude import Prelude
from layer_migrate.identity import identity_id


def helpers(bots: dict[str, str] | None = None, quote: str = '"') -> dict:
    p = Prelude(quote=quote, bots=bots or {})
    for name in ("_layer_identity_ids", "_layer_user_ids", "_layer_v1_recipient_status", "_layer_v1_sender",
                 "_layer_sender_id", "_layer_notification_recipients"):
        p.use(name)
    code = "from urllib.parse import quote, unquote\n" + cst.Module(body=p.statements(set())).code
    ns: dict = {}
    exec(compile(code, "<helpers>", "exec"), ns)
    return ns


H = helpers({"Support": "support-bot"})


def test_a_string_is_not_split_into_characters():
    assert H["_layer_identity_ids"]("alice") == "alice"


def test_no_double_prefix_and_encoding_matches_the_library():
    got = H["_layer_identity_ids"](["layer:///identities/a", "partner/dave+x@y", "b"])
    assert got == ["layer:///identities/a", identity_id("partner/dave+x@y"), "layer:///identities/b"]


@given(st.text(min_size=1))
def test_identity_round_trip(user_id):
    ident = H["_layer_identity_id"](user_id)
    assert ident == identity_id(user_id)
    assert H["_layer_identity_id"](ident) == ident
    assert H["_layer_user_id"](ident) == user_id


def test_reads_give_v1_shapes_and_leave_v1_shapes_alone():
    basic = {"id": "layer:///identities/alice", "url": "u", "user_id": "alice", "display_name": "A"}
    assert H["_layer_user_ids"]([basic, "layer:///identities/b%2Fc", "carol"]) == ["alice", "b/c", "carol"]
    assert H["_layer_user_ids"](None) is None
    assert H["_layer_v1_recipient_status"]({"layer:///identities/alice": "read", "bob": "sent"}) == \
        {"alice": "read", "bob": "sent"}
    assert H["_layer_v1_sender"](basic) == {"user_id": "alice", "name": None}
    bot = {"id": "layer:///identities/support-bot", "user_id": "support-bot", "display_name": "Helpdesk"}
    assert H["_layer_v1_sender"](bot) == {"user_id": None, "name": "Support"}
    named = {"id": None, "url": None, "user_id": None, "display_name": "Admin"}
    assert H["_layer_v1_sender"](named) == {"user_id": None, "name": "Admin"}
    assert H["_layer_v1_sender"]({"user_id": "alice"}) == {"user_id": "alice"}
    assert H["_layer_v1_sender"](None) is None


def test_sender_id_for_users_and_bots():
    assert H["_layer_sender_id"]({"user_id": "alice", "display_name": "x"}) == "layer:///identities/alice"
    assert H["_layer_sender_id"]({"name": "Support"}) == "layer:///identities/support-bot"
    with pytest.raises(ValueError, match="no bot user id for sender .Nobody."):
        H["_layer_sender_id"]({"name": "Nobody"})


def test_notification_overrides_both_v1_shapes():
    conv = H["_layer_notification_recipients"]
    assert conv({"bob": {"text": "hi", "sound": None}}) == [
        {"text": "hi", "sound": None, "recipient": "layer:///identities/bob"}]
    assert conv([{"user_id": "bob", "text": "hi"}]) == [{"text": "hi", "recipient": "layer:///identities/bob"}]
    already = [{"recipient": "layer:///identities/bob", "text": "hi"}]
    assert conv(already) == already


def test_single_quote_style_renders_valid_python():
    ns = helpers(quote="'")
    assert ns["_layer_identity_id"]("a b") == "layer:///identities/a%20b"
