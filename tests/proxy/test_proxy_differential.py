"""Differential end-to-end test (issue 4 "done when"): the scripted v1 session run directly
against the emulator at 1.0 and at 1.1, and through the proxy against the emulator at 3.0
(and 2.0), must give the
same answers modulo generated ids and timestamps. Real sockets on 127.0.0.1 throughout."""

from __future__ import annotations

import httpx
import pytest
from proxy_scenario import STEPS, run

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

#: Steps where the two sides disagree, with the analysis (see the proxy report); each is an
#: ``xfail(strict=True)`` so it flips when fixed. Empty: the three error-message differences found
#: earlier (R23, R34, 405 naming the upstream version; the invalid-base64 error's message and
#: data.property) were fixed on the engine/emulator side.
KNOWN: dict[str, str] = {}


def _sender(base: str):
    client = httpx.Client(base_url=base, timeout=10)

    def send(method, path, headers, body):
        r = client.request(method, path, headers=headers, content=body)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    return send


@pytest.fixture(scope="module", params=[("1.0", "3.0"), ("1.1", "3.0"), ("1.1", "2.0")],
                ids=["1.0-to-3.0", "1.1-to-3.0", "1.1-to-2.0"])
def runs(tmp_path_factory, request):
    client_version, upstream_version = request.param
    accept = f"application/vnd.layer+json; version={client_version}"
    with Emulator().running() as direct_emu:
        direct = run(_sender(direct_emu.url), accept)
    log = tmp_path_factory.mktemp("proxy") / "access.jsonl"
    with Emulator().running() as up, \
            running(ProxyConfig(upstream=up.url, upstream_version=upstream_version, port=0,
                                access_log=str(log))) as proxy:
        proxied = run(_sender(proxy.url), accept)
        identities = {i.get("user_id") for i in up.store.identities()} if hasattr(up.store, "identities") else set()
    return direct, proxied, log, identities, client_version


@pytest.mark.parametrize("step", [s[0] for s in STEPS])
def test_same_answer(runs, step, request):
    direct, proxied, *_ = runs
    if step in KNOWN:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN[step]))
    assert proxied[step] == direct[step]


def test_known_differences_agree_on_status_id_code(runs):
    if not KNOWN:
        pytest.skip("no known differences between the direct and the proxied answers")
    direct, proxied, *_ = runs
    for step in sorted(KNOWN):
        a, b = direct[step], proxied[step]
        assert (a["status"], a["body"]["id"], a["body"]["code"]) == \
            (b["status"], b["body"]["id"], b["body"]["code"]), step


def test_access_log_names_rules_and_bot_provisioned_once(runs):
    import orjson

    _, proxied, log, identities, version = runs
    up_app = "00000000-0000-4000-8000-00000000a991"
    records = [orjson.loads(line) for line in log.read_text().splitlines()]
    blocks = [r for r in records if r["method"] in ("POST", "DELETE") and "/blocks" in r["path"]
              and r["status"] == 204]
    assert len(blocks) == 2
    assert {(r["upstream_method"], r["upstream_path"]) for r in blocks} == {
        ("PATCH", f"/apps/{up_app}/users/alice")}
    sends = [r for r in records if r["method"] == "POST" and r["path"].endswith("/messages")]
    assert any("v2.sender.name_to_bot" in r["rules"] for r in sends)
    # None: refused (bad Accept); webhooks REST negotiates its own media type (1.0)
    assert all(r["client_version"] in (version, None) for r in records if "/webhooks" not in r["path"])
    assert sum(r["status"] == 406 for r in records) == 1
    assert any(uid and uid.startswith("bot-") for uid in identities)


def test_missing_accept_is_v1_0():
    """R04: a pre-1.1 client without Accept is served as 1.0 (the proxy injects the upstream
    version; the strict emulator itself would answer 406)."""
    with Emulator().running() as up, running(ProxyConfig(upstream=up.url, port=0, access_log=None)) as proxy:
        h = {"authorization": "Bearer emulator-token"}
        httpx.post(proxy.url + up.path("/users/zed/identity"), headers=h, json={"display_name": "Zed"})
        r = httpx.post(proxy.url + up.path("/conversations"), headers=h, json={"participants": ["zed"]})
        assert r.status_code == 201, r.text
        assert r.json()["participants"] == ["zed"]
        assert httpx.get(up.url + up.path("/conversations"), headers=h).status_code == 406
