"""The engine's hot-path shortcuts build exactly what the plain code paths build.

bench/translate.py holds the engine to ≤ 1.5× a hand-written translation (issue 14 §3); the
shortcuts that buys (a per-exchange Context constructor, inlined identity-id cache hits, fused
part checks) must not change a single result, so each is checked against its slow equivalent.
"""

from __future__ import annotations

import pytest

from layer_migrate import LayerError, Request
from layer_migrate.engine import Options, default_engine, translate_request
from layer_migrate.rulebook import Context
from layer_migrate.rulebook.context import perspective_of

V1 = {"accept": "application/vnd.layer+json; version=1.0"}
SEND = "/apps/A/conversations/C/messages"


def _state(ctx: Context) -> dict[str, object]:
    return {name: getattr(ctx, name) for name in Context.__slots__}


@pytest.mark.parametrize("endpoint", [None, "messages.send", "user.conversations.list"])
def test_for_exchange_builds_the_state_init_builds(endpoint: str | None) -> None:
    opts, params, headers, req = Options(), {"app": "A"}, {"accept": "x"}, object()
    engine = default_engine()
    slow = Context("1.0", "3.0", opts, endpoint, params, engine, "POST", "/p", headers, {"b": 1}, 201, req)
    fast = Context.for_exchange("1.0", "3.0", opts, endpoint, params, engine, "POST", "/p", headers,
                                {"b": 1}, 201, req, perspective_of(endpoint))
    assert _state(fast) == _state(slow)
    assert fast.applied is not slow.applied and fast.lossy is not fast.prerequisites


@pytest.mark.parametrize("options", [Options(), Options(identity_ids_in_requests=False)])
@pytest.mark.parametrize("user_id", ["u1", "name space/42", "layer:///identities/u2"])
def test_sender_user_id_move_same_on_cache_hit_and_miss(options: Options, user_id: str) -> None:
    """R21's inlined cache hit and the action it shortcuts give the same body."""
    def send() -> object:
        req = Request("POST", SEND, V1, {"sender": {"user_id": user_id}, "parts": []})
        return translate_request(req, "3.0", options=options).request.body

    first = send()  # may miss the identity-id cache
    assert send() == first  # now a hit
    if options.identity_ids_in_requests:
        assert first["sender_id"].startswith("layer:///identities/")  # type: ignore[index]


@pytest.mark.parametrize("parts, prop", [
    (["x"], "parts[0]"),
    ([{"body": "a", "content": {}}], "parts[0]"),
    ([{"body": "YW55", "encoding": "base64"}, {"body": "not base64!", "encoding": "base64"}], "parts[1].body"),
    ([{"body": 5, "encoding": "base64"}], "parts[0].body"),
])
def test_r32_part_refusals_name_the_part(parts: list[object], prop: str) -> None:
    req = Request("POST", SEND, V1, {"sender": {"user_id": "u"}, "parts": parts})
    with pytest.raises(LayerError) as err:
        translate_request(req, "3.0")
    assert err.value.id == "invalid_property" and err.value.data == {"property": prop}


def test_r32_checks_off_without_v1_errors() -> None:
    req = Request("POST", SEND, V1, {"sender": {"user_id": "u"}, "parts": ["x"]})
    assert translate_request(req, "3.0", options=Options(emulate_v1_errors=False)).request.body == {
        "sender_id": "layer:///identities/u", "parts": ["x"]}


def test_recipient_overrides_keep_key_order_and_an_explicit_recipient() -> None:
    """R26 builds {"recipient", **rest}: the recipient first, the entry's own keys after."""
    note = {"text": "t", "recipients": [{"user_id": "a", "text": "x", "sound": "s"},
                                        {"sound": "s", "user_id": "b", "recipient": "layer:///identities/c"},
                                        {"recipient": "layer:///identities/d"}]}
    req = Request("POST", SEND, V1, {"sender": {"user_id": "u"}, "parts": [], "notification": note})
    got = translate_request(req, "3.0").request.body["notification"]["recipients"]
    assert [list(r.items()) for r in got] == [
        [("recipient", "layer:///identities/a"), ("text", "x"), ("sound", "s")],
        [("recipient", "layer:///identities/c"), ("sound", "s")],
        [("recipient", "layer:///identities/d")]]
    assert note["recipients"][0] == {"user_id": "a", "text": "x", "sound": "s"}  # input untouched
