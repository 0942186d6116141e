"""Identities (§3), users, block lists (§9), badges, sessions, suspension (§10), Following (§3.5)."""

from __future__ import annotations

import pytest

V1_PROFILE = {"display_name": "Frodo the Dodo", "avatar_url": None, "first_name": "Frodo", "last_name": None,
              "phone_number": None, "email_address": None, "public_key": None, "metadata": {"level": "35"}}


def test_identity_create_and_get_per_version(v1, v3, v2):
    r = v1.post("/users/frodo/identity", {"display_name": "Frodo the Dodo", "first_name": "Frodo", "metadata": {"level": "35"}})
    assert r.status_code == 201 and r.content == b""
    assert v1.get("/users/frodo/identity").json() == V1_PROFILE
    expected3 = {"id": "layer:///identities/frodo", "url": f"https://api.layer.com/apps/{v3.emu.app_id}/users/frodo/identity",
                 "user_id": "frodo", "display_name": "Frodo the Dodo", "avatar_url": None, "first_name": "Frodo",
                 "last_name": None, "phone_number": None, "email_address": None, "identity_type": "user",
                 "public_key": None, "metadata": {"level": "35"}}
    assert v3.get("/users/frodo/identity").json() == expected3
    assert v2.get("/users/frodo/identity").json() == expected3
    assert list(v3.get("/users/frodo/identity").json()) == list(expected3)


def test_identity_create_conflict_and_validation(v1, v3):
    v3.identity("sam")
    r = v1.post("/users/sam/identity", {"display_name": "Again"})
    assert r.status_code == 409 and r.json()["id"] == "id_in_use" and r.json()["code"] == 111
    r = v1.post("/users/pip/identity", {"first_name": "x"})
    assert r.status_code == 422 and r.json()["data"]["property"] == "display_name"
    assert r.json()["message"] == "Object is missing required member 'display_name'"
    assert v1.post("/users/pip/identity", {"display_name": "x" * 129}).status_code == 422
    assert v1.post("/users/pip/identity", {"display_name": "P", "metadata": {"n": 1}}).status_code == 422
    assert v1.post("/users/pip/identity", {"display_name": "P", "metadata": {str(i): "v" for i in range(17)}}).status_code == 422
    assert v1.post("/users/pip/identity", {"display_name": "P", "identity_type": "bot"}).status_code == 422
    assert v1.get("/users/pip").status_code == 404  # failed create leaves nothing behind


@pytest.mark.parametrize(("field", "value"), [("identity_type", "bot"), ("identity_type", "BOT"), ("type", "Bot")])
def test_bot_identities(v2, v3, field, value):
    r = v2.post("/users/bot-support/identity", {"display_name": "Support", field: value})
    assert r.status_code == 201
    assert v3.get("/users/bot-support/identity").json()["identity_type"] == "bot"
    assert v3.post("/users/x/identity", {"display_name": "X", "identity_type": "robot"}).status_code == 422


def test_identity_put_patch_delete(v1, v3):
    assert v1.put("/users/merry/identity", {"display_name": "Merry"}).status_code == 204
    assert v1.put("/users/merry/identity", {"display_name": "Meriadoc", "last_name": "Brandybuck"}).status_code == 204
    assert v1.put("/users/merry/identity", {"last_name": "x"}).status_code == 422
    ops = [{"operation": "set", "property": "first_name", "value": "M"},
           {"operation": "set", "property": "metadata.home", "value": "Buckland"},
           {"operation": "set", "property": "last_name", "value": None}]
    assert v1.patch("/users/merry/identity", ops).status_code == 204
    got = v1.get("/users/merry/identity").json()
    assert got["display_name"] == "Meriadoc" and got["first_name"] == "M" and got["last_name"] is None
    assert got["metadata"] == {"home": "Buckland"}
    assert v1.patch("/users/merry/identity", [{"operation": "delete", "property": "metadata.home"}]).status_code == 204
    assert v1.get("/users/merry/identity").json()["metadata"] == {}
    assert v1.patch("/users/merry/identity", [{"operation": "set", "property": "nickname", "value": "x"}]).status_code == 422
    assert v3.delete("/users/merry/identity").status_code == 204
    assert v3.get("/users/merry/identity").status_code == 404
    assert v3.delete("/users/merry/identity").status_code == 404
    assert v1.patch("/users/merry/identity", ops).status_code == 404
    assert v3.get("/users/merry").json() == {"id": "merry", "identity": None, "suspended": False}


def test_user_status_per_version(v1, v3):
    v3.identity("blake", "Blake")
    assert v1.get("/users/blake").json() == {"id": "blake", "identity": {
        "display_name": "Blake", "avatar_url": None, "first_name": None, "last_name": None, "phone_number": None,
        "email_address": None, "public_key": None, "metadata": None}, "suspended": False}
    got3 = v3.get("/users/blake").json()
    assert got3["identity"]["id"] == "layer:///identities/blake" and got3["identity"]["identity_type"] == "user"


def test_v1_blocks(v1):
    v1.conversation(["owner"])
    assert v1.get("/users/owner/blocks").json() == []
    assert v1.post("/users/owner/blocks", {"user_id": "blockme987"}).status_code == 204
    assert v1.post("/users/owner/blocks", {"user_id": "b/c"}).status_code == 204
    assert v1.get("/users/owner/blocks").json() == [{"user_id": "blockme987"}, {"user_id": "b/c"}]
    r = v1.post("/users/owner/blocks", {})
    assert r.status_code == 422 and r.json()["message"] == "Object is missing required member 'user_id'"
    assert v1.delete("/users/owner/blocks/b%2Fc").status_code == 204
    assert v1.get("/users/owner/blocks").json() == [{"user_id": "blockme987"}]
    ops = [{"operation": "add", "property": "blocks", "value": "blockMe1"},
           {"operation": "remove", "property": "blocks", "value": "unblockMe"},
           {"operation": "set", "property": "blocks", "value": ["blockMe1", "blockMe2"]}]
    assert v1.patch("/users/owner", ops).status_code == 202
    assert v1.get("/users/owner/blocks").json() == [{"user_id": "blockMe1"}, {"user_id": "blockMe2"}]
    assert v1.patch("/users/owner", [{"operation": "set", "property": "blocks", "value": []}]).status_code == 202
    assert v1.get("/users/owner/blocks").json() == []
    assert v1.post("/users/ghost/blocks", {"user_id": "x"}).status_code == 404


def test_v3_blocks(v3, v2, lenient3):
    v3.identity("abc1234", "ABC")
    v3.conversation(["owner"])
    ops = [{"operation": "add", "property": "blocks", "id": "layer:///identities/abc1234"},
           {"operation": "add", "property": "blocks", "id": "layer:///identities/unblockMe"},
           {"operation": "remove", "property": "blocks", "id": "layer:///identities/unblockMe"}]
    assert v3.patch("/users/owner", ops).status_code == 202
    listed = v2.get("/users/owner/blocks").json()
    assert listed == [{"id": "layer:///identities/abc1234", "url": f"https://api.layer.com/apps/{v3.emu.app_id}/users/abc1234/identity",
                       "user_id": "abc1234", "display_name": "ABC", "avatar_url": None}]
    for bad in ([{"operation": "add", "property": "blocks", "value": "x"}],
                [{"operation": "set", "property": "blocks", "value": ["layer:///identities/x"]}],
                [{"operation": "add", "property": "blocks", "id": "x"}]):
        r = v3.patch("/users/owner", bad)
        assert r.status_code == 422 and r.json()["data"]["property"] == "blocks"
    assert v3.patch("/users/owner", [{"operation": "set", "property": "blocks", "value": []}]).status_code == 202
    assert v3.get("/users/owner/blocks").json() == []
    lenient3.conversation(["owner"])
    assert lenient3.patch("/users/owner", [{"operation": "add", "property": "blocks", "value": "x"}]).status_code == 202


def test_user_patch_errors(v1):
    v1.conversation(["u"])
    assert v1.patch("/users/u", [{"operation": "set", "property": "suspended", "value": "yes"}]).status_code == 422
    assert v1.patch("/users/u", [{"operation": "set", "property": "nickname", "value": "x"}]).status_code == 422
    assert v1.patch("/users/u", [{"operation": "add", "property": "blocks", "value": "u"}]).status_code == 202  # self-block allowed (evidence)


def test_badges_and_sessions(v1):
    conv = v1.conversation(["a", "b"])
    v1.post(f"/conversations/{conv['id'].rsplit('/', 1)[1]}/messages", {"sender": {"user_id": "b"}, "parts": [{"body": "x", "mime_type": "text/plain"}]})
    assert v1.put("/users/a/badge", {"external_unread_count": 13}).status_code == 204
    assert v1.get("/users/a/badge").json() == {"external_unread_count": 13, "unread_conversation_count": 1,
                                               "unread_message_count": 1}
    assert v1.put("/users/a/badge", {"external_unread_count": -1}).status_code == 422
    assert v1.put("/users/a/badge", {}).status_code == 422
    assert v1.delete("/users/a/sessions").status_code == 204
    assert v1.emu.store.session_resets()[0]["user_id"] == "a"
    assert v1.delete("/users/nobody/sessions").status_code == 404


def test_session_ttl(v1):
    r = v1.patch("", [{"operation": "set", "property": "session_ttl_in_seconds", "value": 3600}])
    assert r.status_code == 202
    assert v1.emu.store.get_kv("session_ttl_in_seconds") == 3600
    assert v1.patch("", [{"operation": "set", "property": "session_ttl_in_seconds", "value": 10}]).status_code == 422


def test_following(v2, v3):
    v3.identity("me")
    v3.identity("them", "Them")
    assert v3.put("/users/me/following/them").status_code == 204
    assert v3.put("/users/me/following/newbie").status_code == 204  # followed user created if unknown
    assert v3.get("/users/me/following/them").status_code == 204
    assert v3.get("/users/me/following/stranger").status_code == 404
    assert v2.get("/users/me/following").json() == ["layer:///identities/them", "layer:///identities/newbie"]
    idents = v3.get("/users/me/identities").json()
    assert [i["user_id"] for i in idents] == ["them"] and idents[0]["display_name"] == "Them"
    assert v3.post("/users/me/following", ["layer:///identities/x", "layer:///identities/y"]).status_code == 202
    r = v3.get("/users/me/following", params={"page_size": 2, "from_id": "layer:///identities/newbie"})
    assert r.json() == ["layer:///identities/x", "layer:///identities/y"] and r.headers["layer-count"] == "4"
    assert v3.delete("/users/me/following/them").status_code == 204
    assert v3.get("/users/me/following/them").status_code == 404
    assert v3.post("/users/me/following", ["bare"]).status_code == 422
    assert v3.put("/users/ghost/following/them").status_code == 404
