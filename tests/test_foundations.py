"""Foundations shared by every product: versions, identity ids, routes, errors."""

import pytest

from layer_migrate import errors, routes, versions
from layer_migrate.identity import (
    BotDirectory,
    default_bot_user_id,
    identity_id,
    path_user_id,
    user_id_of,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/vnd.layer+json; version=1.0", "1.0"),
        ("application/vnd.layer+json;version=3.0", "3.0"),
        ("application/vnd.layer+json; charset=UTF-8; version=2.0", "2.0"),
        ('application/vnd.layer+json; version="1.1"', "1.1"),
        ("application/json", None),
        (None, None),
        ("application/vnd.layer.webhooks+json; version=1.0", None),
    ],
)
def test_version_of_accept(value, expected):
    assert versions.version_of(value) == expected


def test_check_version_rejects_unknown():
    assert versions.check_version("2") == "2.0"
    with pytest.raises(versions.UnknownVersion):
        versions.check_version("4.0")


def test_steps_between():
    assert versions.steps_between("1.0", "3.0") == list(versions.STEPS)
    assert versions.steps_between("1.1", "2.0") == [("1.1", "2.0")]
    assert versions.steps_between("3.0", "1.1") == [("1.1", "2.0"), ("2.0", "3.0")]


@pytest.mark.parametrize(
    ("user", "ident"),
    [
        ("alice", "layer:///identities/alice"),
        ("b/c", "layer:///identities/b%2Fc"),
        ("fred.flinstone", "layer:///identities/fred.flinstone"),
        ("a b+c%?", "layer:///identities/a%20b%2Bc%25%3F"),
        ("it's(ok)!~*", "layer:///identities/it's(ok)!~*"),
        ("ünï", "layer:///identities/%C3%BCn%C3%AF"),
    ],
)
def test_identity_id_is_encode_uri_component(user, ident):
    assert identity_id(user) == ident
    assert user_id_of(ident) == user


def test_identity_id_never_double_prefixes():
    once = identity_id("a/b")
    assert identity_id(once) == once


def test_strict_xdk_encoding_decodes_to_same_user():
    assert user_id_of("layer:///identities/it%27s%28ok%29%21%7E") == "it's(ok)!~"


def test_user_id_of_basic_identity_prefers_user_id():
    assert user_id_of({"id": "layer:///identities/x", "user_id": "y"}) == "y"
    assert user_id_of({"id": "layer:///identities/a%2Fb", "user_id": None}) == "a/b"
    assert user_id_of({"id": None, "user_id": None, "display_name": "Admin"}) is None


def test_path_user_id():
    assert path_user_id("namespace/12345") == "namespace%2F12345"


def test_bot_directory_default_is_deterministic_and_reversible():
    d = BotDirectory()
    uid = d.user_id_for("Support Bot")
    assert uid == default_bot_user_id("Support Bot") == BotDirectory().user_id_for("Support Bot")
    assert d.name_for(uid) == "Support Bot"
    assert default_bot_user_id("support") == "bot-support"
    assert default_bot_user_id("Support") != default_bot_user_id("support")


def test_bot_directory_load_errors(tmp_path):
    bad = tmp_path / "bots.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bots.json:1: bot map is not valid JSON"):
        BotDirectory.load(bad)
    bad.write_text('["x"]')
    with pytest.raises(ValueError, match="must be a JSON object"):
        BotDirectory.load(bad)
    good = tmp_path / "good.json"
    good.write_text('{"Support": "bot-42"}')
    assert BotDirectory.load(good).user_id_for("Support") == "bot-42"


def test_routes_match_and_decode_params():
    m = routes.match("DELETE", "/apps/A/users/namespace%2F1/blocks/b%2Fc?x=1")
    assert m is not None and m.name == "blocks.delete"
    assert m.params == {"app": "A", "user": "namespace/1", "blocked": "b/c"}
    assert routes.match("PUT", "/apps/A/conversations") is None
    assert routes.allowed_methods("/apps/A/conversations") == ["POST"]


def test_error_object_shape():
    err = errors.missing_property("participants")
    assert err.status == 422
    assert err.to_json() == {
        "id": "missing_property", "code": 104,
        "message": "Object is missing required member 'participants'",
        "url": errors.DOCS_URL, "data": {"property": "participants"},
    }
    assert errors.method_not_allowed(["GET"]).headers == {"allow": "GET"}
