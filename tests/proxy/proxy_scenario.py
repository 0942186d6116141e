"""A scripted legacy v1 client session, run against any base URL, for the differential tests.

Each step is (name, method, path, body, extra headers); ``{cid}``/``{mid}``/``{cid2}`` are filled
from earlier answers. :func:`normalise` replaces generated ids and timestamps so that two runs
against two different servers can be compared exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

APP = "00000000-0000-4000-8000-00000000a991"
V10 = "application/vnd.layer+json; version=1.0"
V11 = "application/vnd.layer+json; version=1.1"
PATCH_CT = "application/vnd.layer-patch+json"
WH1 = "application/vnd.layer.webhooks+json; version=1.0"

Step = tuple[str, str, str, Any, dict[str, str]]

STEPS: list[Step] = [
    ("identity.alice", "POST", "/users/alice/identity", {"display_name": "Alice", "first_name": "Al"}, {}),
    ("identity.bob", "POST", "/users/bob/identity", {"display_name": "Bob"}, {}),
    ("identity.carol", "POST", "/users/carol/identity", {"display_name": "Carol"}, {}),
    ("identity.slash", "POST", "/users/ns%2F42/identity", {"display_name": "Namespaced"}, {}),
    ("identity.get", "GET", "/users/alice/identity", None, {}),
    ("users.get", "GET", "/users/alice", None, {}),
    ("conv.create", "POST", "/conversations",
     {"participants": ["alice", "bob"], "distinct": False, "metadata": {"title": "Coffee"}}, {}),
    ("conv.get", "GET", "/conversations/{cid}", None, {}),
    ("conv.distinct.create", "POST", "/conversations",
     {"participants": ["alice", "carol"], "distinct": True}, {}),
    ("conv.distinct.again", "POST", "/conversations",
     {"participants": ["carol", "alice"], "distinct": True}, {}),
    ("conv.distinct.conflict", "POST", "/conversations",
     {"participants": ["alice", "carol"], "distinct": True, "metadata": {"x": "y"}}, {}),
    ("conv.patch.add_remove", "PATCH", "/conversations/{cid}",
     [{"operation": "add", "property": "participants", "value": "carol"},
      {"operation": "remove", "property": "participants", "value": "bob"}], {"content-type": PATCH_CT}),
    ("conv.after_add_remove", "GET", "/conversations/{cid}", None, {}),
    ("conv.patch.set", "PATCH", "/conversations/{cid}",
     [{"operation": "set", "property": "participants", "value": ["alice", "bob", "carol", "ns/42"]}],
     {"content-type": PATCH_CT}),
    ("conv.patch.metadata", "PATCH", "/conversations/{cid}",
     [{"operation": "set", "property": "metadata.stats.counter", "value": "10"}], {"content-type": PATCH_CT}),
    ("conv.after_set", "GET", "/conversations/{cid}", None, {}),
    ("conv.override.patch", "POST", "/conversations/{cid}",
     [{"operation": "remove", "property": "participants", "value": "ns/42"}],
     {"content-type": PATCH_CT, "x-http-method-override": "PATCH"}),
    ("conv.after_override", "GET", "/conversations/{cid}", None, {}),
    ("user.conversations.paged", "GET", "/users/alice/conversations?page_size=1&sort_by=created_at", None, {}),
    ("msg.from_user", "POST", "/conversations/{cid}/messages",
     {"sender": {"user_id": "alice"}, "parts": [{"body": "Hi", "mime_type": "text/plain"}],
      "notification": {"text": "Hi", "sound": "chime.aiff",
                       "recipients": {"bob": {"text": "Hey Bob"}}}}, {}),
    ("msg.from_name", "POST", "/conversations/{cid}/messages",
     {"sender": {"name": "Support"}, "parts": [{"body": "We are here", "mime_type": "text/plain"},
                                               {"body": "aGVsbG8=", "mime_type": "application/octet-stream",
                                                "encoding": "base64"}]}, {}),
    ("msg.list", "GET", "/conversations/{cid}/messages", None, {}),
    ("msg.get", "GET", "/conversations/{cid}/messages/{mid}", None, {}),
    ("user.conversations", "GET", "/users/alice/conversations", None, {}),
    ("user.messages", "GET", "/users/bob/conversations/{cid}/messages", None, {}),
    ("announcement", "POST", "/announcements",
     {"recipients": ["alice", "bob"], "sender": {"name": "Support"},
      "parts": [{"body": "Maintenance tonight", "mime_type": "text/plain"}]}, {}),
    ("notification", "POST", "/notifications",
     {"recipients": ["alice", "bob"], "notification": {"text": "ping",
                                                       "recipients": [{"user_id": "bob", "text": "pong"}]}}, {}),
    ("blocks.post", "POST", "/users/alice/blocks", {"user_id": "bob"}, {}),
    ("blocks.get", "GET", "/users/alice/blocks", None, {}),
    ("blocks.delete", "DELETE", "/users/alice/blocks/bob", None, {}),
    ("blocks.get.empty", "GET", "/users/alice/blocks", None, {}),
    ("blocks.patch", "PATCH", "/users/alice",
     [{"operation": "add", "property": "blocks", "value": "carol"}], {"content-type": PATCH_CT}),
    ("blocks.get.patched", "GET", "/users/alice/blocks", None, {}),
    # webhooks REST (R53): a v1 client registers a 1.0 webhook
    ("webhooks.create", "POST", "/webhooks",
     {"version": "1.0", "target_url": "http://127.0.0.1:9/hook", "events": ["message.sent", "conversation.updated.metadata"],
      "secret": "s3cret", "config": {"team": "legacy"}}, {"accept": WH1}),
    ("webhooks.create.no_version", "POST", "/webhooks",
     {"target_url": "http://127.0.0.1:9/hook", "events": ["message.sent"], "secret": "s"}, {"accept": WH1}),
    # errors
    ("err.conv.no_participants", "POST", "/conversations", {"distinct": False}, {}),
    ("err.msg.both_senders", "POST", "/conversations/{cid}/messages",
     {"sender": {"user_id": "alice", "name": "X"}, "parts": [{"body": "x", "mime_type": "text/plain"}]}, {}),
    ("err.msg.no_sender", "POST", "/conversations/{cid}/messages",
     {"parts": [{"body": "x", "mime_type": "text/plain"}]}, {}),
    ("err.msg.bad_base64", "POST", "/conversations/{cid}/messages",
     {"sender": {"user_id": "alice"}, "parts": [{"body": "!!not base64!!", "mime_type": "image/png",
                                                 "encoding": "base64"}]}, {}),
    ("err.announcement.everyone", "POST", "/announcements",
     {"recipients": "everyone", "sender": {"name": "Support"},
      "parts": [{"body": "x", "mime_type": "text/plain"}]}, {}),
    ("err.blocks.no_user", "POST", "/users/alice/blocks", {}, {}),
    ("err.conv.unknown", "GET", "/conversations/00000000-0000-4000-8000-000000000404", None, {}),
    ("err.method", "PUT", "/conversations", {"participants": ["alice"]}, {}),
    ("err.accept", "GET", "/conversations/{cid}", None, {"accept": "application/vnd.layer+json; version=4.0"}),
    ("err.identity.missing", "GET", "/users/nobody/identity", None, {}),
    # bad input (raw bodies)
    ("bad.json", "POST", "/conversations", b'{"participants": [', {"content-type": "application/json"}),
    ("bad.form", "POST", "/conversations", b"participants=a",
     {"content-type": "application/x-www-form-urlencoded"}),
    ("bad.not_object", "POST", "/conversations", b"[1, 2]", {"content-type": "application/json"}),
    ("bad.text_plain_json", "POST", "/conversations/{cid}/messages",
     b'{"sender": {"user_id": "bob"}, "parts": [{"body": "plain", "mime_type": "text/plain"}]}',
     {"content-type": "text/plain"}),
    ("bad.oversized", "POST", "/conversations",
     b'{"participants": ["' + b"a" * (1024 * 1024 + 10) + b'"]}', {"content-type": "application/json"}),
    # deletes
    ("msg.delete", "DELETE", "/conversations/{cid}/messages/{mid}", None, {}),
    ("msg.get.deleted", "GET", "/conversations/{cid}/messages/{mid}", None, {}),
    ("conv.delete", "DELETE", "/conversations/{cid}", None, {}),
    ("conv.get.deleted", "GET", "/conversations/{cid}", None, {}),
]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def normalise(value: Any) -> Any:
    """Generated ids → ``<uuid>`` (the app id kept), timestamps → ``<ts>``; lists of user ids
    sorted (participant order is not preserved by the API, spec §4.2 OBS)."""
    if isinstance(value, dict):
        # ``position`` is a server-generated sequence number (like an id): the proxy's own
        # bot-identity provisioning advances the upstream's counter.
        return {k: ("<n>" if k == "position" and isinstance(v, int) else normalise(v))
                for k, v in value.items()}
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        if all(isinstance(i, str) for i in items):
            return sorted(items)
        return items
    if isinstance(value, str):
        s = value.replace(APP, "<app>")
        s = _UUID.sub("<uuid>", s)
        return _TS.sub("<ts>", s)
    return value


def run(send: Callable[[str, str, dict[str, str], bytes | None], tuple[int, dict[str, str], bytes]],
        accept: str = V11) -> dict[str, dict[str, Any]]:
    """Run every step with ``send(method, path, headers, body) → (status, headers, body)``."""
    ids: dict[str, str] = {}
    out: dict[str, dict[str, Any]] = {}
    for name, method, path, body, extra in STEPS:
        p = f"/apps/{APP}" + path.format(**ids) if "{" not in path or all(
            k in ids for k in re.findall(r"{(\w+)}", path)) else None
        if p is None:
            out[name] = {"skipped": True}
            continue
        headers = {"accept": accept, "authorization": "Bearer emulator-token"}
        data = None
        if isinstance(body, bytes):
            data = body
        elif body is not None:
            headers["content-type"] = "application/json"
            data = orjson.dumps(body)
        headers.update(extra)
        status, rh, raw = send(method, p, headers, data)
        parsed = orjson.loads(raw) if raw and rh.get("content-type", "").find("json") >= 0 else raw.decode()
        if name == "conv.create" and status == 201:
            ids["cid"] = parsed["id"].rsplit("/", 1)[-1]
        if name == "msg.from_user" and status == 201:
            ids["mid"] = parsed["id"].rsplit("/", 1)[-1]
        out[name] = {"status": status, "body": normalise(parsed),
                     "allow": rh.get("allow"), "layer-count": rh.get("layer-count")}
    return out
