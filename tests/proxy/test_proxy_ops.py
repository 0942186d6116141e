"""Operations (issue 12): readiness, request ids, settings precedence and refusal, JSON logs,
report-only's response-side rules, ``proxy report``, verify-reads, deployment knobs.

Real servers on 127.0.0.1 throughout: the canned upstream, the emulator, the proxy in a thread or
as a ``layer-migrate proxy`` subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from proxy_scenario import run

from layer_migrate.cli import main
from layer_migrate.emulator import Emulator
from layer_migrate.proxy.canned import running as canned_running
from layer_migrate.proxy.config import ConfigError, ProxyConfig
from layer_migrate.proxy.serving import free_port, running
from layer_migrate.proxy.settings import load

APP = "00000000-0000-4000-8000-00000000a991"
V11 = "application/vnd.layer+json; version=1.1"
V3 = "application/vnd.layer+json; version=3.0"
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("LAYER_MIGRATE_PROXY_")}


@contextmanager
def upstream_on(port: int):
    """A canned upstream on a fixed port (so it can be stopped and started again)."""
    with canned_running(port=port) as (url, _):
        yield url


# -- health and readiness -------------------------------------------------------------------------


def test_ready_follows_the_upstream_health_does_not():
    port = free_port()
    cfg = ProxyConfig(upstream=f"http://127.0.0.1:{port}", port=0, access_log=None,
                      ready_cache=0.0, ready_timeout=1.0)
    with upstream_on(port), running(cfg) as proxy:
        assert httpx.get(proxy.url + "/-/ready").status_code == 200
    with running(cfg) as proxy:  # upstream stopped
        r = httpx.get(proxy.url + "/-/ready")
        assert r.status_code == 503
        body = r.json()
        assert body["id"] == "service_unavailable" and body["data"]["upstream"] == "connect"
        assert "cannot be reached" in body["message"] and set(body) >= {"id", "code", "message", "url"}
        assert httpx.get(proxy.url + "/-/health").status_code == 200  # liveness: still serving
        with upstream_on(port):  # and back
            assert httpx.get(proxy.url + "/-/ready").status_code == 200
        assert httpx.get(proxy.url + "/-/ready").status_code == 503


def test_ready_probe_is_cached():
    port = free_port()
    cfg = ProxyConfig(upstream=f"http://127.0.0.1:{port}", port=0, access_log=None, ready_cache=60)
    with upstream_on(port), running(cfg) as proxy:
        assert httpx.get(proxy.url + "/-/ready").status_code == 200
    # the upstream is gone, but the cached answer (60 s) stands: a probe storm is not an upstream storm
    with running(cfg) as proxy:
        proxy.app.readiness._last = None
        assert httpx.get(proxy.url + "/-/ready").status_code == 503
        with upstream_on(port):
            assert httpx.get(proxy.url + "/-/ready").status_code == 503


# -- request ids ----------------------------------------------------------------------------------


def test_request_id_taken_set_and_forwarded(tmp_path):
    log = tmp_path / "access.jsonl"
    with canned_running() as (url, b), running(ProxyConfig(upstream=url, port=0, access_log=str(log))) as p:
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c", headers={"accept": V3, "x-request-id": "abc-123"})
        assert r.headers["x-request-id"] == "abc-123"
        assert b"x-request-id: abc-123" in b.last_request.lower()
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c", headers={"accept": V3})
        generated = r.headers["x-request-id"]
        assert len(generated) == 32 and generated.encode() in b.last_request
        r = httpx.get(f"{p.url}/apps/{APP}/conversations/c",
                      headers={"accept": V3, "x-request-id": "bad id <script>" + "x" * 200})
        assert r.headers["x-request-id"] != "bad id" and len(r.headers["x-request-id"]) == 32
    for _ in range(50):
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) == 3:
            break
        time.sleep(0.05)
    recs = [orjson.loads(x) for x in lines]
    assert [r["request_id"] for r in recs][:2] == ["abc-123", generated]
    assert all(r["level"] == "info" and r["time"].endswith("Z") for r in recs)


# -- settings -------------------------------------------------------------------------------------


def test_precedence_cli_over_env_over_toml(tmp_path):
    f = tmp_path / "proxy.toml"
    f.write_text('[proxy]\nupstream = "http://127.0.0.1:9"\nretries = 5\nport = 7000\n'
                 'upstream-timeout = 3.5\n[proxy.engine-options]\ndrop_nulls = true\n')
    env = {"LAYER_MIGRATE_PROXY_RETRIES": "7", "LAYER_MIGRATE_PROXY_PORT": "7001"}
    cfg = load({"port": 7002}, toml_file=f, environ=env)
    assert (cfg.retries, cfg.port, cfg.upstream_timeout, cfg.engine_options) == (7, 7002, 3.5, {"drop_nulls": True})
    r = CliRunner().invoke(main, ["proxy", "--config", str(f), "--print-config", "--port", "7002",
                                  "--webhook-target", "http://legacy/hook", "--webhook-secret", "s1",
                                  "--upstream-webhook-secret", "s2"], env=env)
    assert r.exit_code == 0, r.output
    assert "retries = 7\n" in r.output and "port = 7002\n" in r.output and "upstream-timeout = 3.5" in r.output
    assert "s1" not in r.output and "s2" not in r.output and 'webhook-secret = "********"' in r.output
    try:  # the printed config is a valid config file
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover
        import tomli as tomllib
    assert tomllib.loads(r.output)["proxy"]["retries"] == 7


@pytest.mark.parametrize("toml, env, expected", [
    ('port = "abc"', {}, "proxy.toml: port: expected integer, got 'abc'"),
    ("timeout = 3", {}, "unknown proxy setting 'timeout'"),
    ("retries = 2.5", {}, "retries: expected integer, got 2.5"),
    ('[proxy.engine-options]\ndrop_nuls = true', {}, "engine-options: unknown engine option 'drop_nuls'"),
    ('[proxy.engine-options]\ndrop_nulls = "yes"', {}, "engine-options: drop_nulls: expected boolean"),
    ("", {"LAYER_MIGRATE_PROXY_PORT": "x"}, "LAYER_MIGRATE_PROXY_PORT: expected integer, got 'x'"),
    ("", {"LAYER_MIGRATE_PROXY_BOGUS": "1"}, "LAYER_MIGRATE_PROXY_BOGUS: unknown proxy setting 'bogus'"),
    ("", {"LAYER_MIGRATE_PROXY_VERIFY_SAMPLE": "2"}, "--verify-sample must be between 0 and 1"),
], ids=["type", "unknown-key", "fraction", "engine-option-typo", "engine-option-type", "env-type",
        "env-unknown", "range"])
def test_bad_setting_exits_2_before_listening(tmp_path, toml, env, expected):
    f = tmp_path / "proxy.toml"
    port = free_port()
    port_line = "" if "port" in toml else f"port = {port}\n"
    f.write_text(f'[proxy]\nupstream = "http://127.0.0.1:9"\n{port_line}{toml}\n')
    started = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "layer_migrate.cli", "proxy", "--config", str(f)],
                       capture_output=True, text=True, timeout=60, env={**CLEAN_ENV, **env}, cwd=tmp_path)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], p.stderr
    assert "Traceback" not in p.stderr and "listening" not in p.stderr and "→" not in p.stderr
    with socket.socket() as s:  # nothing was listening: the port is still free
        s.bind(("127.0.0.1", port))
    assert time.monotonic() - started < 30


def test_every_cli_option_is_a_settings_key():
    from layer_migrate.proxy.cli import proxy

    fields = {f.name for f in dataclasses.fields(ProxyConfig)}
    for param in proxy.params:
        if param.name in ("config_file", "print_config", "help"):
            continue
        assert param.name in fields, param.name
        assert f"--{param.name.replace('_', '-')}" in param.opts, (param.name, param.opts)


def test_engine_options_checked_at_construction():
    with pytest.raises(ConfigError, match="unknown engine option 'bogus'"):
        ProxyConfig(upstream="http://x", engine_options={"bogus": 1})


# -- logs -----------------------------------------------------------------------------------------


def _start(args: list[str], port: int, **kw) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "proxy", "--port", str(port), *args],
                         stderr=subprocess.PIPE, stdout=subprocess.PIPE, env={**CLEAN_ENV, **kw.pop("env", {})},
                         **kw)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            if p.poll() is not None:
                raise AssertionError(p.stderr.read().decode() if p.stderr else "exited") from None
            time.sleep(0.05)
    p.kill()
    raise AssertionError("proxy did not start")


def test_every_log_line_is_json_with_level_and_request_id(tmp_path):
    with canned_running() as (url, _):
        port = free_port()
        p = _start(["--upstream", url, "--log-level", "debug"], port)
        try:
            with httpx.Client(timeout=10) as c:
                for i in range(3):
                    c.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/c",
                          headers={"accept": V3, "x-request-id": f"req-{i}"})
                c.get(f"http://127.0.0.1:{port}/-/metrics")
            # a protocol error uvicorn itself logs (through our formatter)
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"NOT HTTP\r\n\r\n")
                s.recv(100)
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(30)
        err = p.stderr.read().decode()
    assert rc == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    recs = [json.loads(line) for line in lines]  # every line parses
    assert all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in recs)
    assert {r["logger"].split(".")[0] for r in recs} >= {"layer_migrate", "uvicorn"}
    access = [r for r in recs if r.get("kind") == "request"]
    assert [r["request_id"] for r in access] == ["req-0", "req-1", "req-2"]
    assert any(r["level"] == "warning" and r["logger"].startswith("uvicorn") for r in recs), recs


def test_log_file_text_format_and_reopen_on_sighup(tmp_path):
    log = tmp_path / "proxy.log"
    with canned_running() as (url, _):
        port = free_port()
        p = _start(["--upstream", url, "--log-file", str(log), "--log-format", "text"], port)
        try:
            with httpx.Client(timeout=10) as c:
                c.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/c", headers={"accept": V3})
                time.sleep(0.3)
                log.rename(tmp_path / "proxy.log.1")  # logrotate
                p.send_signal(signal.SIGHUP)
                time.sleep(0.3)
                c.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/c",
                      headers={"accept": V3, "x-request-id": "after-rotate"})
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(30)
    assert rc == 0
    old = (tmp_path / "proxy.log.1").read_text()
    new = log.read_text()
    assert "info layer_migrate.proxy" in old and "/conversations/c" in old
    assert "[after-rotate]" in new and "after-rotate" not in old
    assert not new.lstrip().startswith("{")  # text, not JSON


# -- report-only and proxy report -----------------------------------------------------------------


def test_report_only_records_response_side_rules_and_names_endpoints(tmp_path):
    log = tmp_path / "report.jsonl"
    with Emulator().running() as emu, running(ProxyConfig(
            upstream=emu.url, port=0, report_only=True, report_log=str(log), access_log=None)) as proxy:
        h1 = {"accept": V11, "authorization": "Bearer emulator-token", "user-agent": "legacy-app/1.0"}
        base = f"{proxy.url}/apps/{emu.app_id}"
        httpx.post(f"{base}/users/alice/identity", headers=h1, json={"display_name": "A"})
        cid = httpx.post(f"{base}/conversations", headers=h1, json={"participants": ["alice", "bob"]}).json()["id"]
        cid = cid.rsplit("/", 1)[-1]
        assert httpx.get(f"{base}/conversations/{cid}", headers=h1).status_code == 200
        h3 = {"accept": V3, "authorization": "Bearer emulator-token", "user-agent": "new-app/2.0"}
        assert httpx.get(f"{base}/conversations/{cid}", headers=h3).status_code == 200
        metrics = httpx.get(proxy.url + "/-/metrics").text
        time.sleep(0.3)
    recs = [orjson.loads(x) for x in log.read_text().splitlines()]
    v1_get = next(r for r in recs if r["method"] == "GET" and r["client_version"] == "1.1")
    assert v1_get["endpoint"] == "conversations.get"
    assert {"v2.participants.basic_identity", "v2.recipient_status.keys", "v3.part_ids.index"} <= \
        set(v1_get["response_rules"])
    v3_get = next(r for r in recs if r["method"] == "GET" and r["client_version"] == "3.0")
    assert v3_get["endpoint"] == "conversations.get" and v3_get["response_rules"] == []  # no raw id
    assert 'rule="v2.participants.basic_identity",side="expected"' in metrics
    summary = json.loads(CliRunner().invoke(main, ["proxy", "report", "--json", str(log)]).output)
    assert summary["response_rules"]["v2.participants.basic_identity"] == 2  # create's and get's answers
    callers = {(c["user_agent"], c["endpoint"]): c for c in summary["callers"]}
    c = callers[("legacy-app/1.0", "conversations.get")]
    assert c["requests"] == 1 and c["client"] == "127.0.0.1" and c["first_seen"] <= c["last_seen"]
    assert ("new-app/2.0", "conversations.get") not in callers  # not a legacy caller


def test_report_reads_the_json_process_log_and_skips_bad_lines(tmp_path):
    log = tmp_path / "stderr.log"
    rec = {"time": "2026-12-01T10:00:00.000Z", "level": "info", "logger": "layer_migrate.proxy.access",
           "message": "GET /x 200", "request_id": "r1", "kind": "request", "method": "GET",
           "path": f"/apps/{APP}/conversations/c", "endpoint": "conversations.get", "status": 200,
           "client_version": "1.1", "rules": ["hdr.accept.v1_1-v2_0"], "response_rules": ["resp.nulls"],
           "client": "10.0.0.7", "user_agent": "legacy/1"}
    later = {**rec, "time": "2026-12-01T11:00:00.000Z", "request_id": "r2"}
    log.write_text("\n".join([
        json.dumps({"time": "2026-12-01T09:59:59.000Z", "level": "info", "logger": "uvicorn.error",
                    "message": "Started server process [1]", "request_id": None}),
        json.dumps(rec), "garbage {", '["not", "an", "object"]', json.dumps(later),
        json.dumps({"kind": "verify", "endpoint": "conversations.get", "outcome": "different",
                    "rules": ["test.broken"], "example": [{"op": "replace", "path": "/x", "value": 1}]}),
    ]) + "\n")
    r = CliRunner().invoke(main, ["proxy", "report", str(log)])
    assert r.exit_code == 0, r.output
    assert "skipped 2 unreadable line(s)" in r.output and f"{log}:3:" in r.output
    assert "2026-12-01T10:00:00.000Z  2026-12-01T11:00:00.000Z  legacy/1  10.0.0.7  conversations.get" in r.output
    assert "translation differences" in r.output and "test.broken" in r.output and '"path":"/x"' in r.output
    r = CliRunner().invoke(main, ["proxy", "report", "--json", str(log)])
    summary = json.loads(r.stdout)
    assert "skipped 2 unreadable line(s)" in r.stderr
    assert summary["requests"] == 2 and summary["skipped"]["lines"] == 2
    assert summary["differences"][0]["count"] == 1


# -- verify reads ---------------------------------------------------------------------------------

BROKEN_RULE = '''
"""A deliberately wrong rule: shouts conversation titles at v1 clients."""
from layer_migrate.rulebook import Rule

rule = Rule("test.broken_title", spec="R99", step=("2.0", "3.0"), direction="response")


@rule.object_down("conversation")
def _shout(obj, ctx):
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("title"), str):
        return {**obj, "metadata": {**meta, "title": meta["title"].upper()}}
    return obj
'''


def _scenario(proxy_url: str) -> None:
    client = httpx.Client(base_url=proxy_url, timeout=10)

    def send(method, path, headers, body):
        r = client.request(method, path, headers=headers, content=body)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    run(send, V11)


def _verify_results(proxy, log: Path) -> tuple[dict, list[dict]]:
    deadline = time.monotonic() + 20
    while proxy.app.verifier.tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    text = httpx.get(proxy.url + "/-/metrics").text
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    outcomes: dict = {}
    for s in fams["layer_proxy_verify_reads"].samples:
        if s.name.endswith("_total"):
            outcomes[s.labels["outcome"]] = outcomes.get(s.labels["outcome"], 0) + s.value
    diffs = [dict(s.labels, value=s.value) for s in fams["layer_proxy_verify_differences"].samples
             if s.name.endswith("_total")]
    return outcomes, diffs


def test_verify_reads_finds_no_difference_in_the_differential_scenario(tmp_path):
    log = tmp_path / "access.jsonl"
    with Emulator().running() as emu, running(ProxyConfig(
            upstream=emu.url, port=0, access_log=str(log), verify_reads=True, verify_sample=1.0,
            verify_max_inflight=64)) as proxy:
        _scenario(proxy.url)
        outcomes, diffs = _verify_results(proxy, log)
    assert outcomes.get("same", 0) >= 5, outcomes
    assert outcomes.get("different", 0) == 0 and diffs == [], (outcomes, diffs, log.read_text()[-3000:])


def test_verify_reads_finds_a_broken_rule(tmp_path):
    if "rules_dir" not in {f.name for f in dataclasses.fields(ProxyConfig)}:
        pytest.skip("needs ProxyConfig.rules_dir (the proxy's rules-folder option, helper proxyflow)")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.py").write_text(BROKEN_RULE)
    log = tmp_path / "access.jsonl"
    with Emulator().running() as emu, running(ProxyConfig(
            upstream=emu.url, port=0, access_log=str(log), verify_reads=True, verify_sample=1.0,
            verify_max_inflight=64, rules_dir=str(rules))) as proxy:
        _scenario(proxy.url)
        outcomes, diffs = _verify_results(proxy, log)
    assert outcomes.get("different", 0) >= 1, outcomes
    assert ("conversations.get", "test.broken_title") in {(d["endpoint"], d["rule"]) for d in diffs}
    assert {d["rule"] for d in diffs} == {"test.broken_title"}  # attributed to it, and only it
    r = CliRunner().invoke(main, ["proxy", "report", str(log)])
    assert "translation differences" in r.output and "test.broken_title" in r.output
    assert "/metadata/title" in r.output and "COFFEE" in r.output


def test_verify_reads_drops_beyond_its_bound(tmp_path):
    with Emulator().running() as emu, running(ProxyConfig(
            upstream=emu.url, port=0, access_log=None, verify_reads=True, verify_sample=1.0,
            verify_max_inflight=0)) as proxy:
        h = {"accept": V11, "authorization": "Bearer emulator-token"}
        httpx.post(f"{proxy.url}/apps/{emu.app_id}/users/alice/identity", headers=h, json={"display_name": "A"})
        for _ in range(3):
            assert httpx.get(f"{proxy.url}/apps/{emu.app_id}/users/alice/identity", headers=h).status_code == 200
        text = httpx.get(proxy.url + "/-/metrics").text
    assert 'layer_proxy_verify_reads_total{endpoint="identity.get",outcome="dropped"} 3.0' in text


# -- deployment -----------------------------------------------------------------------------------


def test_unix_socket_and_sigterm_exit_0(tmp_path):
    sock = tmp_path / "proxy.sock"
    with canned_running() as (url, b):
        p = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "proxy", "--upstream", url,
                              "--uds", str(sock), "--access-log", "off"],
                             stderr=subprocess.PIPE, env=CLEAN_ENV)
        try:
            deadline = time.monotonic() + 30
            while not sock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=10) as c:
                r = c.get(f"http://proxy/apps/{APP}/conversations/c", headers={"accept": V3})
                assert r.status_code == 200 and b.requests == 1
                assert c.get("http://proxy/-/health").json()["status"] == "ok"
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(30)
    assert rc == 0, p.stderr.read().decode() if p.stderr else ""


def test_inherited_socket_descriptor_as_systemd_passes_it(tmp_path):
    """``--fd N``: the proxy serves on a listening socket its parent opened (socket activation)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    with canned_running() as (url, b):
        p = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "proxy", "--upstream", url,
                              "--fd", str(fd), "--access-log", "off"],
                             stderr=subprocess.PIPE, env=CLEAN_ENV, pass_fds=(fd,))
        listener.close()  # the child holds its own copy
        try:
            # the socket listens already: the connection waits in its backlog until the proxy runs
            r = httpx.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/c",
                          headers={"accept": V11}, timeout=60)
            assert r.status_code == 200 and b.requests == 1
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(30)
    assert rc == 0, p.stderr.read().decode() if p.stderr else ""


def test_app_factory_from_environment_for_any_asgi_server(tmp_path):
    """``create_app()`` with only LAYER_MIGRATE_PROXY_* variables (as gunicorn/hypercorn would)."""
    import uvicorn

    with canned_running() as (url, b):
        port = free_port()
        code = ("import uvicorn; uvicorn.run('layer_migrate.proxy.asgi:app', host='127.0.0.1', "
                f"port={port}, log_config=None)")
        env = {**CLEAN_ENV, "LAYER_MIGRATE_PROXY_UPSTREAM": url, "LAYER_MIGRATE_PROXY_LOG_FORMAT": "json"}
        p = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/c", headers={"accept": V3})
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            assert r.status_code == 200 and b.requests == 1
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(30)
        err = p.stderr.read().decode()
    assert any(json.loads(line).get("kind") == "request" for line in err.splitlines() if line.strip()), err
    assert uvicorn  # the server used here; any ASGI server imports the same attribute


def test_deploy_examples_use_real_settings():
    """Every LAYER_MIGRATE_PROXY_* in docs/deploy/ is a setting that loads with its example value."""
    import re

    root = Path(__file__).resolve().parents[2] / "docs" / "deploy"
    k8s = dict(re.findall(r'^\s+#?\s*(LAYER_MIGRATE_PROXY_\w+): "(.*)"$', (root / "kubernetes.yaml").read_text(), re.M))
    unit = dict(re.findall(r"^#\s+(LAYER_MIGRATE_PROXY_\w+)=(\S+)$", (root / "layer-migrate-proxy.service").read_text(), re.M))
    assert len(k8s) >= 10 and len(unit) >= 5
    for env in (k8s, unit):
        env = {k: v for k, v in env.items() if not k.endswith("BOT_MAP")}  # a file on the host
        cfg = load({}, environ=env)
        assert cfg.upstream == env["LAYER_MIGRATE_PROXY_UPSTREAM"]
    assert load({}, environ=k8s).verify_reads and load({}, environ=k8s).proxy_headers


# -- as of a date (issue 9 §4) --------------------------------------------------------------------


@pytest.mark.parametrize("as_of, status", [("2015-09-01", 303), ("2015-10-01", 200)])
def test_as_of_reaches_the_engine_through_the_proxy(tmp_path, as_of, status):
    """--as-of / as-of in TOML → Options(as_of=date): R19 303 See Other before 2015-09-16, 200 after."""
    f = tmp_path / "proxy.toml"
    with Emulator().running() as emu:
        f.write_text(f'[proxy]\nupstream = "{emu.url}"\nas-of = {as_of}\naccess-log = "off"\n')  # TOML date
        cfg = load({"port": free_port()}, toml_file=f, environ={})
        assert cfg.as_of == as_of and load({"as_of": as_of}, environ={"LAYER_MIGRATE_PROXY_UPSTREAM": emu.url}).as_of == as_of
        with running(cfg) as proxy:
            assert str(proxy.app.migrator.options.as_of) == as_of
            h = {"accept": V11, "authorization": "Bearer emulator-token"}
            base = f"{proxy.url}/apps/{emu.app_id}"
            for u in ("alice", "bob"):
                httpx.post(f"{base}/users/{u}/identity", headers=h, json={"display_name": u})
            body = {"participants": ["alice", "bob"], "distinct": True}
            assert httpx.post(f"{base}/conversations", headers=h, json=body).status_code == 201
            again = httpx.post(f"{base}/conversations", headers=h, json=body, follow_redirects=False)
            assert again.status_code == status
            if status == 303:
                assert "/conversations/" in again.headers["location"]
    r = CliRunner().invoke(main, ["proxy", "--upstream", "http://x", "--as-of", "2015-13-01", "--print-config"])
    assert r.exit_code == 2 and "--as-of: expected date (YYYY-MM-DD), got '2015-13-01'" in r.output


def test_metrics_families_follow_a_v1_session():
    """Rules by side, prerequisites, translation errors, upstream errors, histograms, in-flight."""
    with Emulator().running() as emu, running(ProxyConfig(upstream=emu.url, port=0, access_log=None)) as proxy:
        h = {"accept": V11, "authorization": "Bearer emulator-token"}
        base = f"{proxy.url}/apps/{emu.app_id}"
        httpx.post(f"{base}/users/alice/identity", headers=h, json={"display_name": "A"})
        cid = httpx.post(f"{base}/conversations", headers=h,
                         json={"participants": ["alice"]}).json()["id"].rsplit("/", 1)[-1]
        r = httpx.post(f"{base}/conversations/{cid}/messages", headers=h, json={
            "sender": {"name": "Night Watch"}, "parts": [{"body": "hi", "mime_type": "text/plain"}]})
        assert r.status_code == 201
        assert httpx.get(f"{base}/conversations/{cid}/messages", headers=h).status_code == 200
        assert httpx.post(f"{base}/conversations", headers={**h, "content-type": "application/json"},
                          content=b"{nope").status_code == 400
        text = httpx.get(proxy.url + "/-/metrics").text
    fams = {f.name: f for f in text_string_to_metric_families(text)}

    def total(name, **labels):
        return sum(s.value for s in fams[name].samples if s.name == name + "_total"
                   and all(s.labels.get(k) == v for k, v in labels.items()))

    assert total("layer_proxy_prerequisites", result="created") == 1
    assert total("layer_proxy_rules_applied", rule="v2.sender.name_to_bot", side="request") == 1
    assert total("layer_proxy_rules_applied", rule="v2.sender.basic_identity", side="response") >= 1
    assert total("layer_proxy_translation_errors") >= 1
    assert total("layer_proxy_requests", client_version="1.1", endpoint="messages.send", status="201") == 1
    assert [s.value for s in fams["layer_proxy_inflight_requests"].samples] == [0.0]
    assert sum(s.value for s in fams["layer_proxy_upstream_latency_seconds"].samples
               if s.name.endswith("_count")) >= 4
    assert "process_cpu_seconds" in fams and "layer_migrate_build_info" in fams


def test_rule_applications_are_tallied_and_land_on_every_scrape():
    """Rule counts are batched off the hot path (issue 14) yet every render shows all of them."""
    from layer_migrate.proxy.metrics import Metrics

    m = Metrics()
    m.rules_applied(["r.one", "r.two"], "request")
    m.rules_applied(["r.one"], "request")
    m.rules_applied(["r.one"], "response")
    text = m.render().decode()
    assert 'layer_proxy_rules_applied_total{rule="r.one",side="request"} 2.0' in text
    assert 'layer_proxy_rules_applied_total{rule="r.two",side="request"} 1.0' in text
    assert 'layer_proxy_rules_applied_total{rule="r.one",side="response"} 1.0' in text
    m.rules_applied(["r.two"], "request")
    assert 'layer_proxy_rules_applied_total{rule="r.two",side="request"} 2.0' in m.render().decode()
    assert 'rule="r.one",side="request"} 2.0' in m.render().decode()  # nothing counted twice


def test_json_line_is_the_line_the_json_formatter_writes():
    """The access log's hot path (no LogRecord) writes exactly what logging would have."""
    import logging
    import random

    from layer_migrate.proxy.logs import JsonFormatter, json_line

    fmt = JsonFormatter()
    rng = random.Random(14)
    for fields in ({"ts": 1.5, "kind": "request", "rules": ["a", "b"], "error": None, "ms": 0.25},
                   {"message": "not mine", "level": "x", "extra": {"n": [1, 2]}},  # head keys win
                   {}):
        for _ in range(200):
            created = rng.uniform(1.6e9, 1.9e9)
            rec = logging.LogRecord("layer_migrate.proxy.access", logging.INFO, __file__, 1, "%s",
                                    ("GET /x 200",), None)
            rec.created, rec.fields, rec.request_id = created, fields, "rid-1"  # type: ignore[attr-defined]
            assert json_line(rec.name, "GET /x 200", "rid-1", fields, created) == fmt.format(rec)


def test_access_log_lines_in_order_in_both_formats_and_through_foreign_handlers(tmp_path):
    """JSON files take the pre-formatted path, text files and test-runner handlers the logging
    path; the content is the same either way and nothing is lost or reordered."""
    import logging

    from layer_migrate.proxy.logs import close_sink, line_sink, record_logger

    lines = {}
    for fmt in ("json", "text"):
        target = tmp_path / f"access.{fmt}"
        lg, sink = record_logger(f"layer_migrate.proxy.access.t{fmt}", str(target), fmt)
        assert (line_sink(lg) is sink) == (fmt == "json")
        with canned_running() as (url, _):
            with running(ProxyConfig(upstream=url, port=0, access_log=None)) as proxy:
                rec = proxy.app.recorder
                rec.access = lg
                for i in range(50):
                    r = httpx.get(f"{proxy.url}/apps/{APP}/conversations/c{i}",
                                  headers={"accept": "application/vnd.layer+json; version=1.1"})
                    assert r.status_code == 200
                rec.access = None
        close_sink(lg, sink)
        lines[fmt] = target.read_text().splitlines()
    paths = [orjson.loads(line)["path"] for line in lines["json"]]
    assert paths == [f"/apps/{APP}/conversations/c{i}" for i in range(50)]
    assert all(orjson.loads(line)["level"] == "info" for line in lines["json"])
    assert [line.split(" [", 1)[0].split(" ", 1)[1] for line in lines["text"]] == \
        ["info layer_migrate.proxy.access.ttext"] * 50
    assert all(f"/conversations/c{i} 200" in line for i, line in enumerate(lines["text"]))
    # a handler the proxy did not install (a test runner's): the record goes through logging
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    lg = logging.getLogger("layer_migrate.proxy.access.foreign")
    lg.propagate, lg.level = False, logging.INFO
    lg.addHandler(Keep())
    assert line_sink(lg) is None
    with canned_running() as (url, _), running(ProxyConfig(upstream=url, port=0, access_log=None)) as proxy:
        proxy.app.recorder.access = lg
        assert httpx.get(f"{proxy.url}/apps/{APP}/conversations/x",
                         headers={"accept": "application/vnd.layer+json; version=1.1"}).status_code == 200
        proxy.app.recorder.access = None
    assert len(seen) == 1 and seen[0].fields["path"] == f"/apps/{APP}/conversations/x"  # type: ignore[attr-defined]


def test_log_writer_batches_lines_without_reordering_records(tmp_path):
    """A burst of pre-formatted lines is written in batches; records logged in between keep
    their place, and drain() returns only once everything is in the file."""
    from layer_migrate.proxy.logs import MAX_BATCH, close_sink, json_line, record_logger

    target = tmp_path / "burst.jsonl"
    lg, sink = record_logger("layer_migrate.proxy.access.burst", str(target), "json")
    assert sink is not None
    expected = []
    for i in range(3 * MAX_BATCH + 7):
        if i % 100 == 50:
            lg.info("record %d", i, extra={"fields": {"n": i}})
        else:
            sink.put_line(json_line(lg.name, f"line {i}", None, {"n": i}, 1.0))
        expected.append(i)
    sink.drain()
    got = [orjson.loads(line)["n"] for line in target.read_text().splitlines()]
    assert got == expected
    sink.put_line(json_line(lg.name, "after drain", None, {"n": -1}, 1.0))
    close_sink(lg, sink)  # stop writes what is queued
    assert orjson.loads(target.read_text().splitlines()[-1])["n"] == -1


def test_log_time_text_reused_per_second_equals_datetimes():
    """``_iso_fast`` (date-time text cached per second) writes what datetime.isoformat does."""
    import random

    from layer_migrate.proxy.logs import _iso, _iso_fast

    rng = random.Random(14)
    edges = [0.0, 1.9995, 5.0000004, 1796167376.264, 1796167376.9999996, 1796167377.0005]
    for ts in edges + [rng.uniform(1.6e9, 1.9e9) for _ in range(20000)]:
        assert _iso_fast(ts) == _iso(ts), ts
