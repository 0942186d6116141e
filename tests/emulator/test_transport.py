"""Transport rules of spec §1 against a real emulator socket."""

from __future__ import annotations

import uuid

import httpx
import pytest

from layer_migrate.emulator import EMULATOR_APP_ID

from .conftest import cid, text

ACCEPT_406 = {"id": "invalid_header", "code": 107,
              "message": "Invalid Accept header; must be of form application/vnd.layer+json; version=x.y",
              "url": "https://developer.layer.com/docs/platform#overview", "data": {"header": "Accept"}}


@pytest.mark.parametrize("accept", [None, "application/json", "application/vnd.layer+json",
                                    "application/vnd.layer+json; version=4.0",
                                    "application/vnd.layer.webhooks+json; version=1.0"])
def test_missing_or_unknown_version_is_406(emulator, http, accept):
    headers = {"Authorization": "Bearer emulator-token"}
    if accept:
        headers["Accept"] = accept
    r = http.get(emulator.path("/conversations/" + str(uuid.uuid4())), headers=headers)
    assert r.status_code == 406
    assert r.json() == ACCEPT_406


@pytest.mark.parametrize("accept", ["application/vnd.layer+json;version=1.1",
                                    "application/vnd.layer+json; charset=UTF-8; version=2.0",
                                    'application/vnd.layer+json; version="3.0"'])
def test_accept_variants_tolerated(emulator, http, accept):
    r = http.post(emulator.path("/conversations"), json={"participants": ["layer:///identities/a"]
                  if "2.0" in accept or "3.0" in accept else ["a"]},
                  headers={"Authorization": "Bearer emulator-token", "Accept": accept})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic emulator-token", "emulator-token"])
def test_bad_token_is_401(emulator, http, auth):
    headers = {"Accept": "application/vnd.layer+json; version=1.0"}
    if auth:
        headers["Authorization"] = auth
    r = http.get(emulator.path("/users/a/identity"), headers=headers)
    assert r.status_code == 401
    assert r.json()["id"] == "authentication_required" and r.json()["code"] == 4


def test_custom_token():
    from layer_migrate.emulator import Emulator

    with Emulator(token="s3cret").running() as emu, httpx.Client(base_url=emu.url) as c:
        h = {"Accept": "application/vnd.layer+json; version=1.0"}
        assert c.get(emu.path("/users/x"), headers={**h, "Authorization": "Bearer emulator-token"}).status_code == 401
        assert c.get(emu.path("/users/x"), headers={**h, "Authorization": "Bearer s3cret"}).status_code == 404


def test_405_with_allow(v1):
    r = v1.request("PUT", "/conversations")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["id"] == "method_not_allowed" and r.json()["code"] == 109


def test_unknown_endpoint_404(v1):
    r = v1.get("/nothing/here")
    assert r.status_code == 404 and r.json()["id"] == "invalid_endpoint" and r.json()["code"] == 106


def test_version_specific_endpoints(v1, v2, v3):
    v3.identity("alice")
    assert v1.get("/users/alice/following").json()["id"] == "invalid_endpoint"
    assert v2.get("/users/alice/following").status_code == 200
    r = v3.post("/users/alice/blocks", {"user_id": "x"})
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = v2.delete("/users/alice/blocks/x")
    assert r.status_code == 405 and "allow" in r.headers


def test_wrong_app_id(emulator, http):
    r = http.get(f"/apps/{uuid.uuid4()}/users/a", headers=emulator.headers("1.0"))
    assert r.status_code == 403 and r.json()["id"] == "invalid_app_id"
    assert EMULATOR_APP_ID == "00000000-0000-4000-8000-00000000a991"


def test_method_override_patch(v1):
    conv = v1.conversation(["a", "b"])
    r = v1.request("POST", f"/conversations/{cid(conv)}", content=b'[{"operation":"set","property":"metadata.x","value":"1"}]',
                   headers={"X-HTTP-Method-Override": "PATCH", "Content-Type": "application/vnd.layer-patch+json"})
    assert r.status_code == 204, r.text
    assert v1.get(f"/conversations/{cid(conv)}").json()["metadata"] == {"x": "1"}
    r = v1.request("POST", f"/conversations/{cid(conv)}", headers={"X-HTTP-Method-Override": "DELETE"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request"


def test_if_none_match_dedupes_creates(v1, emulator):
    key = str(uuid.uuid4())
    a = v1.post("/conversations", {"participants": ["a", "b"], "distinct": False}, headers={"If-None-Match": key})
    b = v1.post("/conversations", {"participants": ["a", "b"], "distinct": False}, headers={"If-None-Match": key})
    assert a.status_code == b.status_code == 201
    assert a.json() == b.json()
    assert len(emulator.store.conversations()) == 1
    conv = a.json()
    key2 = f'"{uuid.uuid4()}"'
    body = {"sender": {"user_id": "a"}, "parts": text()}
    m1 = v1.post(f"/conversations/{cid(conv)}/messages", body, headers={"If-None-Match": key2})
    m2 = v1.post(f"/conversations/{cid(conv)}/messages", body, headers={"If-None-Match": key2})
    assert m1.json()["id"] == m2.json()["id"] and len(emulator.store.messages()) == 1
    r = v1.post("/conversations", {"participants": ["a"]}, headers={"If-None-Match": "not-a-uuid"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request_id" and r.json()["code"] == 3


def test_pagination_and_layer_count(v1):
    conv = v1.conversation(["a", "b"])
    ids = []
    for i in range(5):
        r = v1.post(f"/conversations/{cid(conv)}/messages", {"sender": {"user_id": "a"}, "parts": text(str(i))})
        ids.append(r.json()["id"])
    r = v1.get(f"/conversations/{cid(conv)}/messages", params={"page_size": 2})
    assert r.headers["layer-count"] == "5"
    page = r.json()
    assert [m["id"] for m in page] == ids[::-1][:2]
    r = v1.get(f"/conversations/{cid(conv)}/messages", params={"page_size": 2, "from_id": page[-1]["id"]})
    assert [m["id"] for m in r.json()] == ids[::-1][2:4]
    bare = page[-1]["id"].rsplit("/", 1)[-1]
    r = v1.get(f"/conversations/{cid(conv)}/messages", params={"from_id": bare})
    assert [m["id"] for m in r.json()] == ids[::-1][2:]
    for bad in ("0", "101", "x"):
        r = v1.get(f"/conversations/{cid(conv)}/messages", params={"page_size": bad})
        assert r.status_code == 422 and r.json()["id"] == "invalid_property"


@pytest.mark.parametrize("version", ["1.0", "1.1", "2.0", "3.0"])
@pytest.mark.parametrize("suffix", ["/users/ghost", "/users/ghost/identity", "/users/ghost/blocks",
                                    "/users/ghost/conversations", "/users/ghost/badge"])
def test_unknown_user_is_404_everywhere(v1, version, suffix):
    r = v1.at(version).get(suffix)
    assert r.status_code == 404
    assert r.json()["id"] == "not_found" and r.json()["code"] == 102


def test_malformed_json_is_400(v1):
    r = v1.request("POST", "/conversations", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request"
    r = v1.request("POST", "/conversations", content=b"[1,2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "invalid_request"
    r = v1.request("POST", "/conversations", content=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_wrong_types_are_422(v1):
    for body, prop in [({"participants": "a"}, "participants"), ({"participants": [1]}, "participants"),
                       ({"participants": ["a"], "distinct": "yes"}, "distinct"),
                       ({"participants": ["a"], "metadata": {"n": 1}}, "metadata")]:
        r = v1.post("/conversations", body)
        assert r.status_code == 422, body
        assert r.json()["id"] == "invalid_property" and r.json()["data"]["property"] == prop


def test_oversized_body_is_413(v1):
    r = v1.request("POST", "/conversations", content=b"x" * (1024 * 1024 + 10),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["id"] == "invalid_request"


def test_errors_are_json_with_url(v1):
    r = v1.get("/conversations/" + str(uuid.uuid4()))
    body = r.json()
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert set(body) >= {"id", "code", "message", "url"}
