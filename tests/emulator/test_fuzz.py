"""Bad input never yields a 500 or a non-Layer error body (hypothesis over every endpoint).

Drives :meth:`EmulatorApp.handle` — the whole request pipeline minus the socket — so thousands of
cases run in seconds; the socket path is covered by the other test modules.
"""

from __future__ import annotations

import os

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layer_migrate.emulator.app import EmulatorApp
from layer_migrate.emulator.store import Store
from layer_migrate.errors import is_error_body

APP = "00000000-0000-4000-8000-00000000a991"
VERSIONS = ["1.0", "1.1", "2.0", "3.0"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "a", "b", "layer:///identities/a", "text/plain", "base64", "set", "add", "remove",
                       "delete", "participants", "metadata", "blocks", "suspended", "metadata.x", "read"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["participants", "distinct", "metadata", "sender", "sender_id", "user_id", "name", "parts",
                         "body", "mime_type", "encoding", "content", "id", "size", "notification", "recipients",
                         "recipient", "text", "schedule", "delay_in_seconds", "operation", "property", "value",
                         "display_name", "identity_type", "type", "external_unread_count", "version",
                         "target_url", "events", "secret", "config", "interval", "public_key"]),
        children, max_size=5),
    max_leaves=12)


def _app() -> tuple[EmulatorApp, str, str]:
    app = EmulatorApp(Store(), app_id=APP, token="t")
    h = {"authorization": "Bearer t", "accept": "application/vnd.layer+json; version=1.0"}
    conv = app.handle("POST", f"/apps/{APP}/conversations", b"", h, orjson.dumps({"participants": ["a", "b"]})).body
    cid = conv["id"].rsplit("/", 1)[1]
    msg = app.handle("POST", f"/apps/{APP}/conversations/{cid}/messages", b"", h,
                     orjson.dumps({"sender": {"user_id": "a"}, "parts": [{"body": "x", "mime_type": "text/plain"}]})).body
    app.handle("POST", f"/apps/{APP}/users/a/identity", b"", h, orjson.dumps({"display_name": "A"}))
    return app, cid, msg["id"].rsplit("/", 1)[1]


APP_STATE = _app()


def _paths(cid: str, mid: str) -> list[tuple[str, str]]:
    u = f"/apps/{APP}"
    return [("POST", f"{u}/conversations"), ("PATCH", f"{u}/conversations/{cid}"),
            ("POST", f"{u}/conversations/{cid}/messages"), ("POST", f"{u}/announcements"),
            ("POST", f"{u}/notifications"), ("POST", f"{u}/users/a/identity"), ("PUT", f"{u}/users/n/identity"),
            ("PATCH", f"{u}/users/a/identity"), ("PATCH", f"{u}/users/a"), ("POST", f"{u}/users/a/blocks"),
            ("PUT", f"{u}/users/a/badge"), ("POST", f"{u}/users/b/messages/{mid}/receipts"),
            ("POST", f"{u}/conversations/{cid}/messages/{mid}/parts"), ("PUT", f"{u}/conversations/{cid}/messages/{mid}/parts"),
            ("POST", f"{u}/webhooks"), ("PATCH", f"{u}"), ("PUT", f"{u}/export_schedule"), ("PUT", f"{u}/export_security"),
            ("POST", f"{u}/users/a/following"), ("GET", f"{u}/conversations/{cid}/messages?page_size=")]


@settings(max_examples=int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "1500")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=st.integers(0, 19), version=st.sampled_from(VERSIONS), body=json_values,
       raw=st.one_of(st.none(), st.binary(max_size=20)), patch_ct=st.booleans())
def test_never_500(target, version, body, raw, patch_ct):
    app, cid, mid = APP_STATE
    method, path = _paths(cid, mid)[target]
    media = "application/vnd.layer.webhooks+json" if "/webhooks" in path else "application/vnd.layer+json"
    headers = {"authorization": "Bearer t", "accept": f"{media}; version={version}",
               "content-type": "application/vnd.layer-patch+json" if patch_ct else "application/json"}
    payload = raw if raw is not None else orjson.dumps(body)
    path, _, qs = path.partition("?")
    reply = app.handle(method, path, qs.encode(), headers, payload)
    assert reply.status != 500, reply.body
    if reply.status >= 400:
        assert is_error_body(reply.body) and isinstance(reply.body["url"], str), reply.body
    orjson.dumps(reply.body)  # always serialisable


segments = st.sampled_from(["apps", APP, "users", "conversations", "messages", "parts", "blocks", "identity",
                            "following", "webhooks", "%2F", "%ZZ", "a%20b", "layer:%2F%2F%2Fx", "..", "", "x",
                            "00000000-0000-4000-8000-000000000000", "receipts", "badge", "content", "exports"])


@settings(max_examples=int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "1500")), deadline=None)
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
       segs=st.lists(segments, min_size=1, max_size=8), version=st.sampled_from(VERSIONS + ["9.9"]),
       query=st.dictionaries(st.sampled_from(["page_size", "from_id", "sort_by", "x"]),
                             st.text(max_size=8), max_size=3),
       override=st.sampled_from([None, "PATCH", "DELETE", ""]))
def test_paths_and_queries_never_500(method, segs, version, query, override):
    from urllib.parse import urlencode

    app, _, _ = APP_STATE
    headers = {"authorization": "Bearer t", "accept": f"application/vnd.layer+json; version={version}"}
    if override is not None:
        headers["x-http-method-override"] = override
    reply = app.handle(method, "/" + "/".join(segs), urlencode(query).encode(), headers, b"")
    assert reply.status != 500, reply.body
    if reply.status >= 400:
        assert is_error_body(reply.body), reply.body
