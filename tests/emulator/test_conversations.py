"""Conversations (spec §4) in every version: create/distinct, get, user lists, PATCH, delete."""

from __future__ import annotations

import pytest

from .conftest import PATCH_CT, cid, text

V1_KEYS = {"id", "url", "messages_url", "created_at", "participants", "distinct", "metadata"}
BASIC = {"id", "url", "user_id", "display_name", "avatar_url"}


def test_v1_create_shape(v1):
    r = v1.post("/conversations", {"participants": ["a", "b"], "distinct": False, "metadata": {"title": "Coffee"}})
    assert r.status_code == 201
    conv = r.json()
    assert set(conv) == V1_KEYS
    assert sorted(conv["participants"]) == ["a", "b"]
    assert conv["id"].startswith("layer:///conversations/")
    assert conv["url"] == f"https://api.layer.com/apps/{v1.emu.app_id}/conversations/{cid(conv)}"
    assert conv["messages_url"] == conv["url"] + "/messages"
    assert conv["distinct"] is False and conv["metadata"] == {"title": "Coffee"}


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_v2_create_shape_basic_identities(v3, version):
    v3.identity("a", "User A", avatar_url="https://x/a.gif")
    api = v3.at(version)
    r = api.post("/conversations", {"participants": ["layer:///identities/a", "layer:///identities/b"],
                                    "distinct": False, "metadata": {"title": "Coffee"}})
    assert r.status_code == 201
    conv = r.json()
    assert set(conv) == V1_KEYS
    by_uid = {p["user_id"]: p for p in conv["participants"]}
    assert set(by_uid["a"]) == BASIC
    assert by_uid["a"] == {"id": "layer:///identities/a", "url": f"https://api.layer.com/apps/{v3.emu.app_id}/users/a/identity",
                           "user_id": "a", "display_name": "User A", "avatar_url": "https://x/a.gif"}
    assert by_uid["b"]["display_name"] is None  # implicitly created user without identity


def test_identity_ids_are_encoded(v3, v1):
    r = v3.post("/conversations", {"participants": ["layer:///identities/namespace%2F12345", "layer:///identities/b"]})
    assert r.status_code == 201
    ids = {p["id"] for p in r.json()["participants"]}
    assert "layer:///identities/namespace%2F12345" in ids
    assert "namespace/12345" in {p["user_id"] for p in r.json()["participants"]}
    assert v1.get("/users/namespace%2F12345").status_code == 200


def test_missing_participants_422(v1, v3):
    for api in (v1, v3):
        r = api.post("/conversations", {"distinct": False})
        assert r.status_code == 422
        assert r.json()["message"] == "Object is missing required member 'participants'"
        assert r.json()["data"] == {"property": "participants"}
        assert r.json()["code"] == 104


def test_strict_v3_rejects_bare_user_ids(v3):
    r = v3.post("/conversations", {"participants": ["a", "b"]})
    assert r.status_code == 422
    assert r.json()["id"] == "invalid_property" and r.json()["data"]["property"] == "participants"


def test_lenient_accepts_bare_user_ids(lenient3):
    r = lenient3.post("/conversations", {"participants": ["a", "b"]})
    assert r.status_code == 201
    assert {p["id"] for p in r.json()["participants"]} == {"layer:///identities/a", "layer:///identities/b"}


@pytest.mark.parametrize("version", ["1.0", "3.0"])
def test_distinct_semantics(v1, version):
    api = v1.at(version)
    parts = ["a", "b"] if version == "1.0" else ["layer:///identities/a", "layer:///identities/b"]
    first = api.post("/conversations", {"participants": parts, "distinct": True, "metadata": {"t": "1"}})
    assert first.status_code == 201
    again = api.post("/conversations", {"participants": parts[::-1], "distinct": True})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    same = api.post("/conversations", {"participants": parts, "distinct": True, "metadata": {"t": "1"}})
    assert same.status_code == 200
    other = api.post("/conversations", {"participants": parts, "distinct": True, "metadata": {"t": "2"}})
    assert other.status_code == 409
    err = other.json()
    assert err["id"] == "conflict" and err["code"] == 108
    assert err["message"] == ("The requested Distinct Conversation was found but had metadata that did not "
                              "match your request.")
    assert err["data"]["id"] == first.json()["id"]
    assert err["data"]["participants"] == first.json()["participants"]
    nondistinct = api.post("/conversations", {"participants": parts, "distinct": False})
    assert nondistinct.status_code == 201 and nondistinct.json()["id"] != first.json()["id"]


def test_distinct_lost_after_participant_change(v1):
    conv = v1.conversation(["a", "b"], distinct=True)
    r = v1.patch(f"/conversations/{cid(conv)}", [{"operation": "add", "property": "participants", "value": "c"}])
    assert r.status_code == 204
    got = v1.get(f"/conversations/{cid(conv)}").json()
    assert got["distinct"] is False and sorted(got["participants"]) == ["a", "b", "c"]
    again = v1.post("/conversations", {"participants": ["a", "b"], "distinct": True})
    assert again.status_code == 201 and again.json()["id"] != conv["id"]


def test_get_404_and_410_after_delete(v1, v3):
    conv = v1.conversation(["a", "b"])
    assert v1.get("/conversations/00000000-0000-4000-8000-000000000000").status_code == 404
    assert v1.delete(f"/conversations/{cid(conv)}").status_code == 204
    assert v1.delete(f"/conversations/{cid(conv)}").status_code == 204  # deleting twice succeeds
    for api in (v1, v3):
        r = api.get(f"/conversations/{cid(conv)}")
        assert r.status_code == 410
        assert r.json() == {"id": "object_deleted", "code": 103, "message": "The referenced conversation has been deleted.",
                            "url": "https://developer.layer.com/docs/platform"}
    r = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text()})
    assert r.status_code == 410
    assert v1.get("/users/a/conversations").json() == []


def test_v1_patch_participants_doc_example(v1):
    conv = v1.conversation(["user2", "x"], distinct=False)
    ops = [{"operation": "add", "property": "participants", "value": "user1"},
           {"operation": "remove", "property": "participants", "value": "user2"},
           {"operation": "set", "property": "participants", "value": ["user1", "user2", "user3"]}]
    assert v1.patch(f"/conversations/{cid(conv)}", ops).status_code == 204
    assert sorted(v1.get(f"/conversations/{cid(conv)}").json()["participants"]) == ["user1", "user2", "user3"]


def test_v3_patch_participants_doc_example(v3):
    conv = v3.conversation(["user2", "x"], distinct=False)
    ops = [{"operation": "add", "property": "participants", "id": "layer:///identities/user1"},
           {"operation": "remove", "property": "participants", "id": "layer:///identities/user2"},
           {"operation": "set", "property": "participants", "value": []},
           {"operation": "add", "property": "participants", "id": "layer:///identities/user1"}]
    assert v3.patch(f"/conversations/{cid(conv)}", ops).status_code == 204
    got = v3.get(f"/conversations/{cid(conv)}").json()
    assert [p["user_id"] for p in got["participants"]] == ["user1"]


def test_v3_patch_rejects_v1_shapes(v3, lenient3):
    conv = v3.conversation(["a", "b"], distinct=False)
    for op in ({"operation": "add", "property": "participants", "value": "c"},
               {"operation": "set", "property": "participants", "value": ["a", "c"]}):
        r = v3.patch(f"/conversations/{cid(conv)}", [op])
        assert r.status_code == 422 and r.json()["data"]["property"] == "participants"
    conv = lenient3.conversation(["a", "b"], distinct=False)
    r = lenient3.patch(f"/conversations/{cid(conv)}", [{"operation": "set", "property": "participants", "value": ["tu2", "tu1"]}])
    assert r.status_code == 204
    assert {p["user_id"] for p in lenient3.get(f"/conversations/{cid(conv)}").json()["participants"]} == {"tu1", "tu2"}


def test_metadata_patch_doc_example(v1):
    conv = v1.conversation(["a", "b"], metadata={"title": "x"})
    ops = [{"operation": "set", "property": "metadata.stats.counter", "value": "10"},
           {"operation": "set", "property": "metadata.admin", "value": {"user_id": "fred", "hours": {"start": "9", "end": "5"}}},
           {"operation": "delete", "property": "metadata.admin"}]
    assert v1.patch(f"/conversations/{cid(conv)}", ops).status_code == 204
    assert v1.get(f"/conversations/{cid(conv)}").json()["metadata"] == {"title": "x", "stats": {"counter": "10"}}
    r = v1.patch(f"/conversations/{cid(conv)}", [{"operation": "set", "property": "metadata.n", "value": 5}])
    assert r.status_code == 422
    r = v1.patch(f"/conversations/{cid(conv)}", [{"operation": "set", "property": "metadata.a\\.b", "value": "dot"}])
    assert r.status_code == 204
    assert v1.get(f"/conversations/{cid(conv)}").json()["metadata"]["a.b"] == "dot"
    r = v1.patch(f"/conversations/{cid(conv)}", [{"operation": "set", "property": "metadata", "value": {"only": "this"}}])
    assert v1.get(f"/conversations/{cid(conv)}").json()["metadata"] == {"only": "this"}


@pytest.mark.parametrize("ops", [{"operation": "set"}, [{"operation": "frob", "property": "metadata.a", "value": "x"}],
                                 [{"property": "metadata.a"}], [{"operation": "set", "property": "metadata.a"}],
                                 [{"operation": "add", "property": "participants", "value": "c", "index": 0}],
                                 [{"operation": "set", "property": "created_at", "value": "x"}]])
def test_bad_layer_patch(v1, ops):
    conv = v1.conversation(["a", "b"])
    r = v1.patch(f"/conversations/{cid(conv)}", ops)
    assert r.status_code in (400, 422), r.text
    assert r.json()["id"] in ("invalid_request", "invalid_property", "missing_property")


def test_patch_content_type(v1):
    conv = v1.conversation(["a", "b"])
    op = [{"operation": "set", "property": "metadata.a", "value": "1"}]
    r = v1.patch(f"/conversations/{cid(conv)}", op, content_type="application/json")
    assert r.status_code == 406 and r.json()["id"] == "invalid_header" and r.json()["data"]["header"] == "Content-Type"
    assert v1.patch(f"/conversations/{cid(conv)}", op, content_type="application/vnd.layer-patch.json").status_code == 204
    assert v1.patch(f"/conversations/{cid(conv)}", op, content_type=PATCH_CT + "; charset=utf-8").status_code == 204


def test_user_perspective_list_and_get(v1, v3):
    c1 = v1.conversation(["a", "b"], distinct=False)
    c2 = v1.conversation(["a", "c"], distinct=False)
    v1.post(f"/conversations/{cid(c1)}/messages", {"sender": {"user_id": "b"}, "parts": text("one")})
    v1.post(f"/conversations/{cid(c1)}/messages", {"sender": {"user_id": "b"}, "parts": text("two")})
    r = v1.get("/users/a/conversations")
    assert r.status_code == 200 and r.headers["layer-count"] == "2"
    listed = r.json()
    assert [c["id"] for c in listed] == [c2["id"], c1["id"]]  # created_at, newest first
    first = next(c for c in listed if c["id"] == c1["id"])
    assert first["unread_message_count"] == 2
    assert first["url"].endswith(f"/users/a/conversations/{cid(c1)}")
    lm = first["last_message"]
    assert lm["parts"][0]["body"] == "two" and lm["is_unread"] is True and "position" in lm
    assert lm["sender"] == {"user_id": "b", "name": None}
    assert next(c for c in listed if c["id"] == c2["id"])["last_message"] is None
    by_last = v1.get("/users/a/conversations", params={"sort_by": "last_message"}).json()
    assert by_last[0]["id"] == c1["id"]
    assert v1.get("/users/a/conversations", params={"sort_by": "bogus"}).status_code == 422
    assert v1.get(f"/users/b/conversations/{cid(c1)}").json()["unread_message_count"] == 0
    assert v1.get(f"/users/c/conversations/{cid(c1)}").status_code == 404
    got3 = v3.get(f"/users/a/conversations/{cid(c1)}").json()
    assert got3["last_message"]["sender"]["id"] == "layer:///identities/b"


def test_participant_blocked(v1):
    v1.conversation(["owner", "x"])
    assert v1.post("/users/owner/blocks", {"user_id": "pest"}).status_code == 204
    r = v1.post("/conversations", {"participants": ["owner", "pest"]})
    assert r.status_code == 422 and r.json()["id"] == "participant_blocked" and r.json()["code"] == 110


def test_significance_is_3_0_only(v1, v3):
    r = v3.post("/conversations", {"participants": ["layer:///identities/a"], "significance": {"level": "high"}})
    assert r.status_code == 201 and r.json()["significance"] == {"level": "high"}
    assert "significance" not in v1.get(f"/conversations/{cid(r.json())}").json()
    assert v1.post("/conversations", {"participants": ["a"], "significance": {}}).status_code == 422


def test_unknown_property_rejected(v1):
    r = v1.post("/conversations", {"participants": ["a"], "colour": "blue"})
    assert r.status_code == 422 and r.json()["data"]["property"] == "colour"
