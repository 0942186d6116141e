"""Differential: code rewritten by the codemod sends exactly what the engine would translate.

Each case is a tiny v1 module calling a ``requests``-like object. The original module is run
against a recorder to get the v1 request; the engine translates that request to 3.0. The
codemod rewrites the module's *source*; the rewritten module is run against the recorder
too. Both 3.0 requests must agree (method, path, body, Layer-Patch content type) — one rulebook,
two consumers (design.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from layer_migrate import Options as EngineOptions
from layer_migrate import Request, translate_request
from layer_migrate.codemod import Options, build_index, rewrite_source
from layer_migrate.identity import BotDirectory

BOTS = {"Support": "support-bot"}
HOST = "https://api.layer.com"
HEADER = f'''from urllib.parse import quote

BASE = "{HOST}/apps/APP"
V1 = {{"Accept": "application/vnd.layer+json; version=1.1"}}


'''
user_ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10)
OPTIONS = Options(index=build_index("3.0"), bots=BotDirectory(dict(BOTS)))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, dict]] = []

    def _record(self, method: str, url: str, json: Any = None, headers: dict | None = None, **_: Any) -> None:
        self.calls.append((method, url, json, dict(headers or {})))

    def post(self, url: str, **kw: Any) -> None:
        self._record("POST", url, **kw)

    def patch(self, url: str, **kw: Any) -> None:
        self._record("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> None:
        self._record("DELETE", url, **kw)


def run(source: str, **args: Any) -> tuple[str, str, Any, dict]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<case>", "exec"), namespace)  # noqa: S102 - test fixtures we just wrote
    rec = Recorder()
    namespace["call"](rec, **args)
    assert len(rec.calls) == 1
    return rec.calls[0]


def check(body_src: str, **args: Any) -> None:
    source = HEADER + body_src
    out = rewrite_source(source.encode(), OPTIONS)
    assert out.skipped is None and out.changed, out.skipped
    assert not out.markers, out.markers
    v1_method, v1_url, v1_body, v1_headers = run(source, **args)
    new_method, new_url, new_body, new_headers = run(out.code.decode(), **args)
    headers = {k.lower(): v for k, v in v1_headers.items()}
    if v1_method == "PATCH":
        headers["content-type"] = "application/vnd.layer-patch+json"
    expected = translate_request(Request(v1_method, v1_url[len(HOST):], headers, v1_body), to="3.0",
                                 options=EngineOptions(bots=BotDirectory(dict(BOTS)))).request
    assert new_method == expected.method
    # the codemod keeps the code's own path encoding (quote(owner, safe="")); the engine writes R13's
    # encoding: the same path once percent-decoded
    assert unquote(new_url[len(HOST):]) == unquote(expected.path)
    assert new_body == expected.body
    if expected.method == "PATCH":
        merged = {k.lower(): v for k, v in new_headers.items()}
        assert merged.get("content-type", headers.get("content-type")) == expected.headers["content-type"]


@settings(max_examples=40, deadline=None)
@given(st.lists(user_ids, min_size=1, max_size=4), st.booleans())
def test_create_conversation(users, as_literal):
    value = repr(users) if as_literal else "users"
    check(f'''def call(requests, users):
    body = {{"participants": {value}, "distinct": False}}
    return requests.post(BASE + "/conversations", json=body, headers=V1)
''', users=users)


@settings(max_examples=40, deadline=None)
@given(user_ids, user_ids, st.sampled_from(["map", "list"]), st.booleans())
def test_send_message_with_overrides(sender, other, shape, as_literal):
    s = repr(sender) if as_literal else "sender"
    o = repr(other) if as_literal else "other"
    overrides = f'{{{o}: {{"text": "hey"}}}}' if shape == "map" else f'[{{"user_id": {o}, "text": "hey"}}]'
    check(f'''def call(requests, sender, other):
    return requests.post(f"{{BASE}}/conversations/c1/messages", headers=V1, json={{
        "sender": {{"user_id": {s}}},
        "parts": [{{"body": "hi", "mime_type": "text/plain"}}],
        "notification": {{"text": "hi", "recipients": {overrides}}},
    }})
''', sender=sender, other=other)


@settings(max_examples=25, deadline=None)
@given(st.lists(user_ids, min_size=1, max_size=3))
def test_announcement_from_a_bot(users):
    check(f'''def call(requests, users):
    body = {{"recipients": {users!r}, "sender": {{"name": "Support"}},
            "parts": [{{"body": "maintenance", "mime_type": "text/plain"}}]}}
    return requests.post(BASE + "/announcements", json=body, headers=V1)
''', users=users)


@settings(max_examples=25, deadline=None)
@given(st.lists(user_ids, min_size=1, max_size=3), user_ids)
def test_notification(users, special):
    check('''def call(requests, users, special):
    note = {"text": "t", "recipients": [{"user_id": special, "text": "u"}]}
    return requests.post(BASE + "/notifications", json={"recipients": users, "notification": note}, headers=V1)
''', users=users, special=special)


@settings(max_examples=40, deadline=None)
@given(user_ids, user_ids, st.lists(user_ids, min_size=1, max_size=3))
def test_participant_patch(added, removed, replacement):
    check(f'''def call(requests, added, removed, replacement):
    ops = [{{"operation": "add", "property": "participants", "value": added}},
           {{"operation": "remove", "property": "participants", "value": {removed!r}}},
           {{"operation": "set", "property": "participants", "value": replacement}},
           {{"operation": "set", "property": "metadata.topic", "value": "x"}}]
    headers = {{**V1, "Content-Type": "application/vnd.layer-patch+json"}}
    return requests.patch(BASE + "/conversations/c1", json=ops, headers=headers)
''', added=added, removed=removed, replacement=replacement)


@settings(max_examples=40, deadline=None)
@given(user_ids, user_ids)
def test_block_and_unblock(owner, user):
    check('''def call(requests, owner, user):
    return requests.post(BASE + "/users/" + quote(owner, safe="") + "/blocks", json={"user_id": user}, headers=V1)
''', owner=owner, user=user)
    check('''def call(requests, owner, user):
    return requests.delete(f"{BASE}/users/{quote(owner, safe='')}/blocks/{quote(user, safe='')}", headers=V1)
''', owner=owner, user=user)
