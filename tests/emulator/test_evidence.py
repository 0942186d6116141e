"""Evidence over strictness (issue 9 §2, §3): where the spec is silent, what the published v1
SDKs sent is accepted (docs/emulator.md, "Accepted because the SDKs sent it"); R21 implicit
participant identities at 2.0/3.0."""

from __future__ import annotations

from typing import Any

from .conftest import PATCH_CT, Api, cid, text


def test_identity_body_user_id_is_ignored(v1: Api) -> None:
    # LayerClient 0.1.10 replace_identity(): Sender.as_dict() puts user_id into the body.
    r = v1.put("/users/frodo/identity", {"display_name": "Frodo", "user_id": "frodo"})
    assert r.status_code == 204, r.text
    got = v1.get("/users/frodo/identity").json()
    assert got["display_name"] == "Frodo" and "user_id" not in got
    r = v1.post("/users/sam/identity", {"display_name": "Sam", "user_id": "someone-else"})
    assert r.status_code == 201, r.text
    assert v1.at("3.0").get("/users/sam/identity").json()["user_id"] == "sam"


def test_identity_unknown_key_still_refused(v1: Api) -> None:
    r = v1.put("/users/frodo/identity", {"display_name": "Frodo", "nickname": "F"})
    assert r.status_code == 422 and r.json()["data"]["property"] == "nickname"


def test_null_sound_in_recipient_override_is_absent(v1: Api, emulator: Any) -> None:
    conv = v1.conversation(["a", "b"])
    note = {"text": "hi", "sound": None, "recipients": {"b": {"text": "hallo", "sound": None}}}
    r = v1.post(f"/conversations/{cid(conv)}/messages",
                {"sender": {"user_id": "a"}, "parts": text(), "notification": note})
    assert r.status_code == 201, r.text
    pushed = emulator.store.notifications()[-1]
    assert pushed["notification"] == {"text": "hi"}
    assert pushed["overrides"] == {"b": {"text": "hallo"}}


def test_null_sound_array_shapes(v1: Api, v3: Api, emulator: Any) -> None:
    r = v1.post("/notifications", {"recipients": ["a"], "notification": {
        "text": "x", "recipients": [{"user_id": "a", "sound": None, "text": "y"}]}})
    assert r.status_code == 202, r.text
    r = v3.post("/notifications", {"recipients": ["layer:///identities/a"], "notification": {
        "text": "x", "recipients": [{"recipient": "layer:///identities/a", "sound": None}]}})
    assert r.status_code == 202, r.text
    assert emulator.store.notifications()[-1]["overrides"] == {"a": {}}


def test_non_null_wrong_type_still_refused(v1: Api) -> None:
    r = v1.post("/notifications", {"recipients": ["a"], "notification": {"text": "x", "sound": 3}})
    assert r.status_code == 422 and "sound" in r.json()["message"]


def test_null_content_beside_body_is_absent(v1: Api) -> None:
    conv = v1.conversation(["a", "b"])
    r = v1.post(f"/conversations/{cid(conv)}/messages",
                {"sender": {"user_id": "a"}, "parts": [{"mime_type": "text/plain", "body": "x", "content": None}]})
    assert r.status_code == 201, r.text


def test_v1_sender_with_profile_keys(v1: Api) -> None:
    # LayerClient send_message() sends Sender.as_dict(): profile keys beside user_id.
    conv = v1.conversation(["a", "b"])
    r = v1.post(f"/conversations/{cid(conv)}/messages",
                {"sender": {"user_id": "a", "display_name": "Alice"}, "parts": text()})
    assert r.status_code == 201, r.text
    assert r.json()["sender"] == {"user_id": "a", "name": None}


def test_self_block_v1_post_204(v1: Api, emulator: Any) -> None:
    # layer-api's integration suite blocks layerapi-testuser from its own list and expects 204.
    v1.conversation(["layerapi-testuser", "x"])
    r = v1.post("/users/layerapi-testuser/blocks", {"user_id": "layerapi-testuser"})
    assert r.status_code == 204, r.text
    got = v1.get("/users/layerapi-testuser/blocks").json()
    assert got == [{"user_id": "layerapi-testuser"}]
    assert v1.delete("/users/layerapi-testuser/blocks/layerapi-testuser").status_code == 204
    assert v1.get("/users/layerapi-testuser/blocks").json() == []


def test_self_block_patch_2_0_and_3_0(v3: Api) -> None:
    v3.conversation(["me", "x"])
    for version in ("2.0", "3.0"):
        api = v3.at(version)
        r = api.patch("/users/me", [{"operation": "add", "property": "blocks", "id": "layer:///identities/me"}])
        assert r.status_code == 202, r.text
        assert [b["user_id"] for b in api.get("/users/me/blocks").json()] == ["me"]
        r = api.patch("/users/me", [{"operation": "remove", "property": "blocks", "id": "layer:///identities/me"}],
                      content_type=PATCH_CT)
        assert r.status_code == 202 and api.get("/users/me/blocks").json() == []


def test_r21_participant_sends_without_identity(v3: Api) -> None:
    for version in ("2.0", "3.0"):
        api = v3.at(version)
        conv = api.conversation([f"p{version}", "q"])
        r = api.post(f"/conversations/{cid(conv)}/messages",
                     {"sender_id": f"layer:///identities/p{version}", "parts": text()})
        assert r.status_code == 201, r.text
        assert r.json()["sender"]["user_id"] == f"p{version}"
        assert r.json()["sender"]["display_name"] is None


def test_r21_participant_identity_is_readable(v3: Api) -> None:
    v3.conversation(["pat", "q"])
    r = v3.get("/users/pat/identity")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "layer:///identities/pat" and body["user_id"] == "pat"
    assert body["display_name"] is None and body["identity_type"] == "user"
    assert v3.at("2.0").get("/users/pat").json()["identity"]["user_id"] == "pat"
    # 1.x never had implicit identities: its identity GET shows only created profiles.
    assert v3.at("1.0").get("/users/pat/identity").status_code == 404


def test_r21_non_participant_still_needs_identity(v3: Api) -> None:
    conv = v3.conversation(["a", "b"])
    v3.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/a", "parts": text()})
    # "ghost" exists (blocked user created on the fly) but is no participant anywhere.
    v3.patch("/users/a", [{"operation": "add", "property": "blocks", "id": "layer:///identities/ghost"}])
    r = v3.post(f"/conversations/{cid(conv)}/messages", {"sender_id": "layer:///identities/ghost", "parts": text()})
    assert r.status_code == 422 and "An Identity must exist" in r.json()["message"]
    assert v3.get("/users/ghost/identity").status_code == 404


def test_r21_deleted_identity_is_gone(v3: Api) -> None:
    v3.conversation(["del", "q"])
    assert v3.delete("/users/del/identity").status_code == 204
    assert v3.get("/users/del/identity").status_code == 404
    v3.identity("del", "Del")
    assert v3.get("/users/del/identity").json()["display_name"] == "Del"
