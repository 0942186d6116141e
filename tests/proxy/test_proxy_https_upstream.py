"""An ``https://`` upstream over 127.0.0.1: a throw-away CA (trustme) signs the certificate of a
TLS-serving emulator; ``--upstream-ca`` makes the proxy trust it, and without it the proxy answers
a Layer-format 502 (certificate not trusted) — no traceback, no token in the log."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.cli import proxy as proxy_cli
from layer_migrate.proxy.config import ConfigError, ProxyConfig
from layer_migrate.proxy.serving import free_port, running

trustme = pytest.importorskip("trustme")

V1 = "application/vnd.layer+json; version=1.1"
TOKEN = "s3cret-bearer-token-for-tls-test"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost, plus an unrelated CA."""
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    out = {"ca": d / "ca.pem", "server": d / "server.pem", "other_ca": d / "other.pem",
           "wrong_name": d / "wrong-name.pem"}
    ca.cert_pem.write_to_path(str(out["ca"]))
    server.private_key_and_cert_chain_pem.write_to_path(str(out["server"]))
    ca.issue_cert("api.example.test").private_key_and_cert_chain_pem.write_to_path(str(out["wrong_name"]))
    trustme.CA().cert_pem.write_to_path(str(out["other_ca"]))
    return out


@contextmanager
def tls_emulator(pki: dict[str, Path], cert: str = "server") -> Iterator[tuple[str, Emulator]]:
    """The emulator's ASGI app served by uvicorn over TLS; yields (https url, emulator)."""
    emu = Emulator(token=TOKEN)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        emu.app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on",
        ssl_certfile=str(pki[cert]), ssl_keyfile=str(pki[cert])))
    thread = threading.Thread(target=server.run, name="tls-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("TLS emulator did not start")
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{port}", emu
    finally:
        server.should_exit = True
        thread.join(15)
        emu.store.close()


def _seed(url: str, emu: Emulator, ca: Path) -> None:
    """alice and bob identities, straight at the emulator (3.0, verifying the test CA)."""
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=url, verify=verify) as c:
        for user in ("alice", "bob"):
            r = c.post(emu.path(f"/users/{user}/identity"), headers=emu.headers("3.0"),
                       json={"display_name": user.title()})
            assert r.status_code == 201, r.text


def _v1(app_id: str) -> tuple[dict[str, str], str]:
    return {"accept": V1, "authorization": f"Bearer {TOKEN}"}, f"/apps/{app_id}"


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_private_ca_trusted(pki, tmp_path, client):
    """(a) --upstream-ca → v1 requests are translated, sent over verified TLS and answered."""
    with tls_emulator(pki) as (url, emu):
        _seed(url, emu, pki["ca"])
        log = tmp_path / "access.jsonl"
        cfg = ProxyConfig(upstream=url, port=0, upstream_ca=str(pki["ca"]), access_log=str(log),
                          upstream_client=client)
        with running(cfg) as proxy:
            h, base = _v1(emu.app_id)
            r = httpx.post(proxy.url + base + "/conversations", headers=h,
                           json={"participants": ["alice", "bob"], "distinct": False})
            assert r.status_code == 201, r.text
            conv = r.json()
            assert sorted(conv["participants"]) == ["alice", "bob"]  # v1 shape: user ids
            r = httpx.post(proxy.url + base + "/users/alice/blocks", headers=h, json={"user_id": "bob"})
            assert r.status_code == 204, r.text
            r = httpx.get(proxy.url + base + "/users/alice/blocks", headers=h)
            assert r.status_code == 200 and [b["user_id"] for b in r.json()] == ["bob"]
        cid = conv["id"].rsplit("/", 1)[-1]
        assert emu.store.conversation(cid) is not None
        assert emu.store.blocked_by("alice") == ["bob"]
        recs = [json.loads(line) for line in log.read_text().splitlines()]
        assert [(x["status"], x["error"]) for x in recs] == [(201, None), (204, None), (200, None)]
        assert recs[1]["upstream_method"] == "PATCH"  # R38: blocks POST → PATCH /users/alice


@pytest.mark.parametrize(("ca", "cert"), [(None, "server"), ("other_ca", "server"),
                                           ("ca", "wrong_name")])
def test_untrusted_certificate_is_a_layer_502(pki, tmp_path, capfd, ca, cert):
    """(b) no --upstream-ca (system store), the wrong CA, or the right CA but a certificate for
    another host name → 502 Layer error, one attempt, nothing reaches the upstream, no
    traceback, and the token is in no log."""
    with tls_emulator(pki, cert) as (url, emu):
        log = tmp_path / "access.jsonl"
        cfg = ProxyConfig(upstream=url, port=0, access_log=str(log), retry_backoff=0.01,
                          upstream_ca=str(pki[ca]) if ca else None)
        with running(cfg) as proxy:
            h, base = _v1(emu.app_id)
            r = httpx.post(proxy.url + base + "/conversations", headers=h,
                           json={"participants": ["alice", "bob"], "distinct": False})
            assert r.status_code == 502, r.text
            assert r.headers["content-type"].startswith("application/json")
            err = r.json()
            assert err["id"] == "service_unavailable" and err["data"] == {"upstream": "tls"}
            assert {"code", "message", "url"} <= set(err)
            r = httpx.post(proxy.url + base + "/users/alice/blocks", headers=h, json={"user_id": "bob"})
            assert r.status_code == 502 and r.json()["data"] == {"upstream": "tls"}
        assert emu.store.conversations() == [] and emu.store.blocked_by("alice") == []
        text = log.read_text()
        recs = [json.loads(line) for line in text.splitlines()]
        assert [(x["status"], x["error"], x["attempts"]) for x in recs] == [
            (502, "upstream: tls", 1), (502, "upstream: tls", 1)]
        out, errs = capfd.readouterr()
        for stream in (text, out, errs):
            assert TOKEN not in stream
            assert "Traceback" not in stream


def test_upstream_ca_validation(tmp_path, pki):
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match="nope.pem: cannot read --upstream-ca"):
        ProxyConfig(upstream="https://x", upstream_ca=str(missing))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="junk.pem: --upstream-ca is not a PEM"):
        ProxyConfig(upstream="https://x", upstream_ca=str(junk))
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="broken.pem: --upstream-ca is not a valid PEM"):
        ProxyConfig(upstream="https://x", upstream_ca=str(broken))
    with pytest.raises(ConfigError, match="cannot read --upstream-ca"):
        ProxyConfig(upstream="https://x", upstream_ca=str(tmp_path))  # a directory
    cfg = ProxyConfig(upstream="https://x", upstream_ca=str(pki["ca"]))
    assert ProxyConfig.from_env({"LAYER_MIGRATE_PROXY_CONFIG": cfg.to_env()}) == cfg  # workers
    toml = tmp_path / "proxy.toml"
    toml.write_text(f'[proxy]\nupstream = "https://x"\nupstream-ca = "{pki["ca"]}"\n')
    assert ProxyConfig.from_toml(toml).upstream_ca == str(pki["ca"])


def test_cli_upstream_ca(tmp_path):
    runner = CliRunner()
    assert "--upstream-ca" in runner.invoke(proxy_cli, ["--help"]).output
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x30\x82\x01\x0a")  # DER, not PEM
    res = runner.invoke(proxy_cli, ["--upstream", "https://x", "--upstream-ca", str(junk)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "junk.pem" in lines[0] and "Traceback" not in res.output
    res = runner.invoke(proxy_cli, ["--upstream", "https://x", "--upstream-ca", str(tmp_path / "gone.pem")])
    assert res.exit_code == 2 and "gone.pem: cannot read --upstream-ca file" in res.output
