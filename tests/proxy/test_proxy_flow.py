"""The one exchange flow (proxy/flow.py) behind all five faces: same retries, same back-off,
same release, same prerequisites — sync and async drivers alike, over real sockets.

Each face talks to the real emulator (3.0) through a scripted recording hop (recording_hop.py)
that injects upstream 5xx answers and connection resets and records when each attempt arrived.
The in-process faces and the proxy get a pool of one upstream connection (faces.py), so an
upstream answer the flow did not release would stall the next attempt.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import orjson
import pytest
import requests
from faces import FACES, face
from recording_hop import large_html, recording_hop

from layer_migrate.emulator import Emulator
from layer_migrate.exchange import Request, Response
from layer_migrate.proxy.flow import Send, Sleep, exchange
from layer_migrate.proxy.migrator import Migrator, UpstreamFailure

V11 = "application/vnd.layer+json; version=1.1"
BACKOFF = 0.1
UNAVAILABLE = (503, "application/json", b'{"id":"service_unavailable","code":1,"message":"busy","url":"x"}')


@pytest.fixture(scope="module")
def emu():
    with Emulator().running() as e:
        h = e.headers("3.0")
        for u in ("alice", "bob"):
            httpx.post(e.url + e.path(f"/users/{u}/identity"), headers=h, json={"display_name": u.title()})
        conv = httpx.post(e.url + e.path("/conversations"), headers=h, json={
            "participants": ["layer:///identities/alice", "layer:///identities/bob"], "distinct": False}).json()
        e.cid = conv["id"].rsplit("/", 1)[-1]  # type: ignore[attr-defined]
        yield e


def v1(emu) -> dict[str, str]:
    return {"accept": V11, "authorization": f"Bearer {emu.token}"}


def assert_backed_off(hop, n: int) -> None:
    """Attempt k+1 arrived at least ``BACKOFF * k`` seconds after attempt k (lower bounds only:
    a loaded machine can only make the gaps longer)."""
    gaps = hop.gaps()
    assert len(gaps) == n - 1
    for k, gap in enumerate(gaps, start=1):
        assert gap >= BACKOFF * k - 0.005, (k, gaps)


@pytest.mark.parametrize("name", FACES)
def test_streamed_5xx_released_and_retried_with_backoff(emu, name):
    """Two large non-JSON 5xx answers (streamed by the proxy), then the real answer."""
    with recording_hop(emu.url, [large_html(503), large_html(502), None]) as hop, \
            face(name, hop.url, backoff=BACKOFF) as f:
        status, _, body = f.request("GET", emu.path(f"/conversations/{emu.cid}"), v1(emu))
    assert status == 200, body[:200]
    assert sorted(orjson.loads(body)["participants"]) == ["alice", "bob"]  # the v1 shape
    assert [s.status for s in hop.seen] == [503, 502, 200]
    assert_backed_off(hop, 3)


@pytest.mark.parametrize("name", FACES)
def test_retries_exhausted_answers_the_last_error(emu, name):
    with recording_hop(emu.url, [UNAVAILABLE] * 4) as hop, face(name, hop.url, backoff=BACKOFF) as f:
        status, _, body = f.request("GET", emu.path(f"/conversations/{emu.cid}"), v1(emu))
    assert (status, orjson.loads(body)["id"]) == (503, "service_unavailable")
    assert len(hop.seen) == 3  # retries=2: three attempts, never a fourth
    assert_backed_off(hop, 3)


def _message(tag: str) -> bytes:
    return orjson.dumps({"sender": {"user_id": "alice"}, "parts": [{"body": tag, "mime_type": "text/plain"}]})


def _stored(emu, tag: str) -> int:
    return sum(1 for m in emu.store.messages(emu.cid) if m["parts"][0]["body"] == tag)


@pytest.mark.parametrize("name", FACES)
def test_create_reset_after_send_is_retried_once_and_not_duplicated(emu, name):
    """The upstream stored the message, then the connection died: the create carries the flow's
    If-None-Match, so the retry returns the same message instead of a second one."""
    tag = f"dedupe-{name}-{uuid.uuid4().hex[:6]}"
    with recording_hop(emu.url, ["reset", None]) as hop, face(name, hop.url, backoff=BACKOFF) as f:
        status, _, body = f.request("POST", emu.path(f"/conversations/{emu.cid}/messages"),
                                    {**v1(emu), "content-type": "application/json"}, _message(tag))
    assert status == 201, body[:300]
    assert [s.method for s in hop.seen] == ["POST", "POST"] and hop.seen[0].status is None
    assert _stored(emu, tag) == 1
    assert_backed_off(hop, 2)


@pytest.mark.parametrize("name", FACES)
def test_create_without_dedupe_is_never_repeated_after_it_may_have_arrived(emu, name):
    tag = f"nodedupe-{name}-{uuid.uuid4().hex[:6]}"
    with recording_hop(emu.url, ["reset", None]) as hop, \
            face(name, hop.url, backoff=BACKOFF, add_dedupe=False) as f:
        status, _, body = f.request("POST", emu.path(f"/conversations/{emu.cid}/messages"),
                                    {**v1(emu), "content-type": "application/json"}, _message(tag))
    assert (status, orjson.loads(body)["id"]) == (502, "service_unavailable")
    assert len(hop.seen) == 1 and _stored(emu, tag) == 1


@pytest.mark.parametrize("name", FACES)
def test_passthrough_answer_is_byte_for_byte_the_upstream_one(emu, name):
    """A client already at the upstream version: its answer is never parsed and re-serialised
    (spacing, number spelling and escapes survive)."""
    wire = b'{ "id": "layer:///conversations/x", "n": 1.50, "t": "caf\\u00e9" }'
    with recording_hop(emu.url, [(200, "application/json", wire)]) as hop, face(name, hop.url) as f:
        status, _, body = f.request("GET", emu.path(f"/conversations/{emu.cid}"), emu.headers("3.0"))
    assert status == 200 and body == wire


# -- response-side prerequisites (issue 9 §6, R10 autocreate_users) -----------------------------

@pytest.mark.parametrize("name", FACES)
def test_autocreate_users_creates_the_unknown_user_and_retries(emu, name):
    ghost = f"ghost-{name}-{uuid.uuid4().hex[:6]}"
    with recording_hop(emu.url) as hop, face(name, hop.url, engine_options={"autocreate_users": True}) as f:
        status, _, body = f.request("GET", emu.path(f"/users/{ghost}/badge"), v1(emu))
        assert status == 200, body[:300]
        assert orjson.loads(body)["unread_message_count"] == 0
        assert [(s.method, s.path.rsplit("/", 1)[-1], s.status) for s in hop.seen] == [
            ("GET", "badge", 404), ("POST", "identity", 201), ("GET", "badge", 200)]
        ident = next(i for i in emu.store.identities() if i["user_id"] == ghost)
        assert ident["display_name"] == ghost
        assert (f.migrator.prereqs.created, f.migrator.prereqs.existing) == (1, 0)
        # The user exists now: the 404 for a missing conversation is not about the user. The
        # identity create answers 409, so the request is not repeated and the 404 stands.
        del hop.seen[:]
        missing = uuid.uuid4()
        status, _, body = f.request("GET", emu.path(f"/users/{ghost}/conversations/{missing}"), v1(emu))
        assert (status, orjson.loads(body)["id"]) == (404, "not_found")
        assert [(s.method, s.status) for s in hop.seen] == [("GET", 404), ("POST", 409)]
        assert f.migrator.prereqs.existing == 1


@pytest.mark.parametrize("name", ["proxy-fast", "httpx-sync"])
def test_unknown_user_stays_404_without_autocreate(emu, name):
    with recording_hop(emu.url) as hop, face(name, hop.url) as f:
        status, _, body = f.request("GET", emu.path("/users/nobody-at-all/badge"), v1(emu))
    assert (status, orjson.loads(body)["id"]) == (404, "not_found")
    assert len(hop.seen) == 1 and f.migrator.prereqs.created == 0


# -- engine injection: a user rule folder works for every face -----------------------------------

USER_RULE = '''"""X02 — test rule: v1 badge reads say they passed a user rule."""
from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("local.badge_mark", spec="X02", step=ALL_STEPS, endpoints={"badge.get"}, direction="response")


@rule.response_down
def mark(ctx):
    if ctx.status == 200 and isinstance(ctx.body, dict):
        ctx.body = {**ctx.body, "marked_by": "user rule"}
        return True
    return False
'''


@pytest.mark.parametrize("name", FACES)
def test_user_rule_folder_applies_to_every_face(emu, name, tmp_path):
    (tmp_path / "mark.py").write_text(USER_RULE)
    with face(name, emu.url, rules=[str(tmp_path)]) as f:
        status, _, body = f.request("GET", emu.path("/users/alice/badge"), v1(emu))
        assert status == 200 and orjson.loads(body)["marked_by"] == "user rule"
        assert "local.badge_mark" in f.migrator.engine.by_id
    with face(name, emu.url) as plain:  # the built-in engine is not affected
        status, _, body = plain.request("GET", emu.path("/users/alice/badge"), v1(emu))
        assert status == 200 and "marked_by" not in orjson.loads(body)


def test_broken_user_rule_fails_when_the_face_is_built(tmp_path):
    from layer_migrate.proxy import MigratingAdapter, MigratingTransport

    (tmp_path / "broken.py").write_text("from layer_migrate.rulebook import Rule\n\nrule = Rule(\n")
    for make in (lambda: MigratingTransport("3.0", rules=[tmp_path]),
                 lambda: MigratingAdapter("3.0", rules=[tmp_path])):
        with pytest.raises(ValueError, match="broken.py"):
            make()


# -- single-flight across threads (sync driver) --------------------------------------------------

def test_sync_single_flight_one_bot_identity_for_concurrent_threads(emu):
    """Eight threads send as the same new bot at once through one requests adapter: one
    identity creation upstream, every send 201."""
    bot = f"Night Shift {uuid.uuid4().hex[:4]}"
    statuses: list[int] = []
    with face("requests", emu.url) as f:
        barrier = threading.Barrier(8)

        def one(i: int) -> None:
            barrier.wait(10)
            body = orjson.dumps({"sender": {"name": bot}, "parts": [{"body": f"{bot}-{i}", "mime_type": "text/plain"}]})
            statuses.append(f.request("POST", emu.path(f"/conversations/{emu.cid}/messages"),
                                      {**v1(emu), "content-type": "application/json"}, body)[0])

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert statuses == [201] * 8
        assert (f.migrator.prereqs.created, f.migrator.prereqs.existing) == (1, 0)


def test_single_flight_shared_by_sync_threads_and_an_event_loop(emu):
    """One migrator behind a requests adapter (threads) and an async httpx transport (a loop),
    as ``layer_migrate.install()`` shares it: while the first identity create is held up
    upstream, every other send — from either driver — waits for it instead of creating again."""
    import asyncio

    from layer_migrate.proxy import AsyncMigratingTransport, MigratingAdapter

    bot = f"Shared Bot {uuid.uuid4().hex[:4]}"
    m = Migrator("3.0")
    statuses: list[int] = []
    path = emu.path(f"/conversations/{emu.cid}/messages")
    h = {**v1(emu), "content-type": "application/json"}

    def body(i: int) -> bytes:
        return orjson.dumps({"sender": {"name": bot}, "parts": [{"body": f"{bot}-{i}", "mime_type": "text/plain"}]})

    with recording_hop(emu.url, [("delay", 0.6)]) as hop, requests.Session() as s:
        s.mount("https://api.layer.com/", MigratingAdapter(upstream=hop.url, migrator=m))

        def sync_send(i: int) -> None:
            statuses.append(s.post("https://api.layer.com" + path, data=body(i), headers=h, timeout=20).status_code)

        async def async_sends() -> None:
            t = AsyncMigratingTransport(upstream=hop.url, migrator=m)
            async with httpx.AsyncClient(base_url="https://api.layer.com", transport=t, timeout=20) as c:
                await asyncio.sleep(0.15)  # the threads' first create is in flight by now
                rs = await asyncio.gather(*(c.post(path, content=body(10 + i), headers=h) for i in range(4)))
                statuses.extend(r.status_code for r in rs)

        threads = [threading.Thread(target=sync_send, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        asyncio.run(async_sends())
        for t in threads:
            t.join(30)
    assert statuses == [201] * 8
    assert len(hop.calls("POST", "/identity")) == 1
    assert (m.prereqs.created, m.prereqs.existing) == (1, 0)
    assert sum(1 for x in emu.store.messages(emu.cid) if x["parts"][0]["body"].startswith(bot)) == 8


def _held_flight(m: Migrator, emu, bot: str):
    """Begin the fulfilment of ``bot``'s identity as another exchange would, and never finish it."""
    from layer_migrate.identity import default_bot_user_id

    return m.prereqs.begin((emu.app_id, ("identity", default_bot_user_id(bot))))


def test_sync_waiter_never_blocks_the_thread_that_owns_the_flight(emu):
    """A blocking call made on the thread whose event loop is fulfilling the same prerequisite
    (sync requests inside an async app, with one installation for both) must not wait for it —
    that wait could never end. It fulfils the prerequisite itself (201/409 are both fine)."""
    from layer_migrate.proxy import MigratingAdapter

    bot = f"Loop Bot {uuid.uuid4().hex[:4]}"
    m = Migrator("3.0")
    m.prerequisite_wait = 60.0  # long: the test would hang if the waiter waited
    mine, _ = _held_flight(m, emu, bot)  # owned by this thread, as a suspended task would be
    assert mine
    started = time.monotonic()
    with requests.Session() as s:
        s.mount("https://api.layer.com/", MigratingAdapter(upstream=emu.url, migrator=m))
        r = s.post("https://api.layer.com" + emu.path(f"/conversations/{emu.cid}/messages"), timeout=20,
                   headers={**v1(emu), "content-type": "application/json"},
                   data=orjson.dumps({"sender": {"name": bot}, "parts": [{"body": "hi", "mime_type": "text/plain"}]}))
    assert r.status_code == 201, r.text
    assert m.prereqs.created == 1
    assert time.monotonic() - started < 30  # it did not sit out the 60 s wait


@pytest.mark.parametrize("name", ["httpx-sync", "httpx-async"])
def test_waiters_give_up_on_a_flight_that_never_lands(emu, name):
    """Sync and async waiters alike stop waiting after ``prerequisite_wait`` and fulfil it."""
    bot = f"Stuck Bot {uuid.uuid4().hex[:4]}"
    with face(name, emu.url) as f:
        f.migrator.prerequisite_wait = 0.3
        done = threading.Event()
        threading.Thread(target=lambda: (_held_flight(f.migrator, emu, bot), done.set())).start()
        assert done.wait(5)
        status, _, body = f.request("POST", emu.path(f"/conversations/{emu.cid}/messages"),
                                    {**v1(emu), "content-type": "application/json"},
                                    orjson.dumps({"sender": {"name": bot},
                                                  "parts": [{"body": "hi", "mime_type": "text/plain"}]}))
        assert status == 201, body[:300]
        assert f.migrator.prereqs.created == 1


# -- the flow itself, without sockets --------------------------------------------------------------

def test_flow_yields_sends_and_sleeps_and_returns_the_outcome():
    """The decisions are all in the generator: a driver only performs what it yields."""
    m = Migrator("3.0", retries=2, backoff=0.25)
    flow = exchange(m, Request("GET", "/apps/A/conversations/c1", {"accept": V11}))
    step = next(flow)
    assert isinstance(step, Send) and not step.raw and step.request.headers["accept"].endswith("version=3.0")
    assert flow.send(Response(503, {"content-type": "application/json"}, {"id": "service_unavailable"})) == Sleep(0.25)
    assert isinstance(next(flow), Send)
    assert flow.throw(UpstreamFailure("reset", "gone")) == Sleep(0.5)  # GET: safe to repeat
    assert isinstance(next(flow), Send)
    with pytest.raises(StopIteration) as done:
        flow.throw(UpstreamFailure("connect", "refused"))
    outcome = done.value.value
    assert (outcome.response.status, outcome.attempts, outcome.error) == (502, 3, "upstream: connect")


def test_passthrough_is_sent_raw_and_never_parsed():
    m = Migrator("3.0")
    req = Request("POST", "/apps/A/conversations", {"accept": "application/vnd.layer+json; version=3.0"},
                  None, b'{"participants": []}')
    flow = exchange(m, req)
    step = next(flow)
    assert step.raw and step.request is req and req.body is None and req.raw == b'{"participants": []}'


def test_webhooks_accept_does_not_poison_the_version_of_other_endpoints():
    """At ``webhooks.*`` endpoints a Platform ``version=1.1`` Accept means 1.0 (§12.4); that must
    not leak into the Accept memo used for every other endpoint."""
    m = Migrator("3.0")
    h = {"accept": V11}
    assert m.plan(Request("GET", "/apps/A/webhooks", h)).client_version == "1.0"
    assert m.plan(Request("GET", "/apps/A/conversations/c1", h)).client_version == "1.1"
    assert m.plan(Request("GET", "/apps/A/webhooks", h)).client_version == "1.0"


def test_rules_dir_config_is_checked_and_survives_the_trip_to_workers(tmp_path):
    from layer_migrate.proxy.config import ConfigError, ProxyConfig

    with pytest.raises(ConfigError, match="no-such-dir: rules directory not found"):
        ProxyConfig(rules_dir=str(tmp_path / "no-such-dir"))
    (tmp_path / "proxy.toml").write_text(f'[proxy]\nrules-dir = "{tmp_path}"\n')
    cfg = ProxyConfig.from_toml(tmp_path / "proxy.toml")
    assert ProxyConfig.from_env({"LAYER_MIGRATE_PROXY_CONFIG": cfg.to_env()}).rules_dir == str(tmp_path)
