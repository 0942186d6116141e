"""The emulator's own identity-id encoding (§3.1): encodeURIComponent, XDK-strict ids decode alike."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layer_migrate.emulator.ids import identity_uri, user_of_identity_uri, uuid_from

from .conftest import cid, text


@pytest.mark.parametrize(("user_id", "expected"), [
    ("1234", "layer:///identities/1234"),
    ("namespace/12345", "layer:///identities/namespace%2F12345"),
    ("a b+c?d%e", "layer:///identities/a%20b%2Bc%3Fd%25e"),
    ("!'()*~-_.", "layer:///identities/!'()*~-_."),
    ("é", "layer:///identities/%C3%A9"),
    ("fred.flinstone@x", "layer:///identities/fred.flinstone%40x"),
])
def test_encode_uri_component(user_id, expected):
    assert identity_uri(user_id) == expected
    assert user_of_identity_uri(expected) == user_id


def test_xdk_strict_encoding_names_the_same_user():
    assert user_of_identity_uri("layer:///identities/%21%27%28%29%7E") == "!'()~"
    assert user_of_identity_uri("not-an-identity") is None
    assert user_of_identity_uri("layer:///identities/") is None


@given(st.text(min_size=1, max_size=30))
def test_roundtrip(user_id):
    assert user_of_identity_uri(identity_uri(user_id)) == user_id


def test_uuid_from():
    u = "F3CC0A4C-7E9B-4A0E-8E4B-0C1D2E3F4A5B"
    assert uuid_from(u, "conversations") == u.lower()
    assert uuid_from(f"layer:///conversations/{u}", "conversations") == u.lower()
    assert uuid_from(f"layer:///messages/{u}", "conversations") is None
    assert uuid_from("nope", "conversations") is None


def test_strict_and_xdk_ids_in_requests(v3):
    r = v3.post("/conversations", {"participants": ["layer:///identities/o%27brien", "layer:///identities/o'brien"]})
    assert r.status_code == 201
    assert [p["user_id"] for p in r.json()["participants"]] == ["o'brien"]
    assert r.json()["participants"][0]["id"] == "layer:///identities/o'brien"


def test_v2_delayed_message_doc_example(v2, v3):
    v3.identity("SenderBot", "Sender Bot", identity_type="bot")
    conv = v2.conversation(["a"])
    r = v2.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/SenderBot", "parts": text(),
                                                        "schedule": {"delay_in_seconds": 5.0, "typing_indicator_in_seconds": 3.0}})
    assert r.status_code == 202 and r.json()["sender"]["display_name"] == "Sender Bot"
    r = v2.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/SenderBot", "parts": text(),
                                                        "schedule": {"delay_in_seconds": 5.0, "typing_indicator_in_seconds": 6.0}})
    assert r.status_code == 422
