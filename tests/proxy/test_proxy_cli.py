"""``layer-migrate proxy``: CLI errors, TOML config, workers + graceful exit, report-only mode
and ``proxy report``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import orjson
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from proxy_scenario import STEPS, run

from layer_migrate.cli import main
from layer_migrate.emulator import Emulator
from layer_migrate.proxy.canned import running as canned_running
from layer_migrate.proxy.config import ConfigError, ProxyConfig
from layer_migrate.proxy.metrics import FLUSH_SECONDS
from layer_migrate.proxy.serving import free_port, running

APP = "00000000-0000-4000-8000-00000000a991"


def test_cli_errors_are_one_line_exit_2(tmp_path):
    r = CliRunner().invoke(main, ["proxy"])
    assert r.exit_code == 2 and "--upstream URL is required" in r.output
    r = CliRunner().invoke(main, ["proxy", "--upstream", "http://x", "--webhook-target", "http://y"])
    assert r.exit_code == 2 and "webhook relay needs all of" in r.output
    bad = tmp_path / "bots.json"
    bad.write_text('["not", "a", "map"]')
    r = CliRunner().invoke(main, ["proxy", "--upstream", "http://x", "--bot-map", str(bad)])
    assert r.exit_code == 2 and f"{bad}:1:" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(main, ["proxy", "--help"])
    assert r.exit_code == 0 and "Examples:" in r.output and "--report-only" in r.output


def test_toml_config(tmp_path):
    f = tmp_path / "proxy.toml"
    f.write_text('[proxy]\nupstream = "http://127.0.0.1:9"\nupstream-version = "2.0"\nretries = 5\n'
                 '[emulator]\nport = 1\n')
    cfg = ProxyConfig.from_toml(f, port=9999)
    assert (cfg.upstream_version, cfg.retries, cfg.port) == ("2.0", 5, 9999)
    f.write_text('[proxy]\nupstream = "http://127.0.0.1:9"\n[proxy.engine-options]\ndrop_nulls = true\n')
    from layer_migrate.proxy.app import ProxyApp

    assert ProxyApp(ProxyConfig.from_toml(f)).migrator.options.drop_nulls is True
    f.write_text('[proxy]\nupstream = "http://x"\nbogus = 1\n')
    try:
        ProxyConfig.from_toml(f)
    except ConfigError as exc:
        assert "unknown proxy setting 'bogus'" in str(exc)
    else:
        raise AssertionError("bogus key accepted")
    r = CliRunner().invoke(main, ["proxy", "--config", str(f)])
    assert r.exit_code == 2 and "bogus" in r.output


def _wait(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("proxy did not start")


def test_workers_and_sigterm(tmp_path):
    with canned_running() as (url, behaviour):
        port = free_port()
        p = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "proxy", "--upstream", url,
                              "--port", str(port), "--workers", "2", "--access-log", str(tmp_path / "access.jsonl")],
                             stderr=subprocess.PIPE, env={**os.environ})
        try:
            _wait(port)
            pids: set[str] = set()
            with httpx.Client(timeout=10) as c:
                for _ in range(40):
                    r = c.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/x",
                              headers={"accept": "application/vnd.layer+json; version=3.0"})
                    assert r.status_code == 200
            # 10 translated (1.1) requests on new connections, spread over the workers: their rule
            # applications are tallied per worker and flushed within FLUSH_SECONDS
            for _ in range(10):
                with httpx.Client(timeout=10) as c:
                    r = c.get(f"http://127.0.0.1:{port}/apps/{APP}/conversations/x",
                              headers={"accept": "application/vnd.layer+json; version=1.1"})
                    assert r.status_code == 200
            time.sleep(FLUSH_SECONDS + 1.0)
            rule_totals: set[float] = set()
            # every scrape, whichever worker answers it, counts all 50 requests (multiprocess mode)
            for _ in range(12):
                with httpx.Client(timeout=10) as c:  # a new connection: possibly another worker
                    text = c.get(f"http://127.0.0.1:{port}/-/metrics").text
                fams = {f.name: f for f in text_string_to_metric_families(text)}
                total = sum(s.value for s in fams["layer_proxy_requests"].samples
                            if s.name == "layer_proxy_requests_total")
                assert total == 50, text
                rule_totals.add(sum(s.value for s in fams["layer_proxy_rules_applied"].samples
                                    if s.name == "layer_proxy_rules_applied_total"
                                    and s.labels["side"] == "request"))
                assert [s.labels for s in fams["layer_migrate_build_info"].samples][0]["mode"] == "translate"
                assert len(fams["layer_migrate_build_info"].samples) == 1
                assert 'worker="' not in text
                pids.update(s.labels["pid"] for s in fams["process_resident_memory_bytes"].samples)
                hist = fams["layer_proxy_request_duration_seconds"]
                assert sum(s.value for s in hist.samples if s.name.endswith("_count")) == 50
            assert len(pids) == 2  # process metrics of both workers, labelled by pid
            assert behaviour.requests == 50
            # one figure on every scrape: both workers' tallies landed; each 1.1 read applies
            # the same Accept rules
            assert len(rule_totals) == 1 and (n := rule_totals.pop()) > 0 and n % 10 == 0, rule_totals
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(20)
        err = p.stderr.read().decode() if p.stderr else ""
        assert rc == 0, err
    # parent and workers log through one JSON formatter (uvicorn's lines included)
    recs = [orjson.loads(line) for line in err.splitlines() if line.strip()]
    assert all("level" in r and "request_id" in r for r in recs)
    assert {r["logger"] for r in recs} >= {"uvicorn.error", "layer_migrate.proxy"}
    # both workers appended to one log without tearing lines; everything was flushed on exit
    lines = (tmp_path / "access.jsonl").read_bytes().splitlines()
    assert len(lines) == 50 and all(orjson.loads(line)["status"] == 200 for line in lines)


def test_report_only_forwards_unchanged_and_reports(tmp_path):
    log = tmp_path / "report.jsonl"
    with Emulator().running() as direct_emu:
        client = httpx.Client(base_url=direct_emu.url, timeout=10)
        direct = run(lambda m, p, h, b: _send(client, m, p, h, b))
    with Emulator().running() as v1_capable, running(ProxyConfig(
            upstream=v1_capable.url, port=0, report_only=True, report_log=str(log), access_log=None)) as proxy:
        client = httpx.Client(base_url=proxy.url, timeout=10)
        proxied = run(lambda m, p, h, b: _send(client, m, p, h, b))
        # nothing was provisioned: the upstream saw exactly what the client sent
        assert not any(i["user_id"].startswith("bot-") for i in v1_capable.store.identities())
    for name, *_ in STEPS:
        assert proxied[name] == direct[name], name
    records = [orjson.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == len(STEPS)
    rules = {r for rec in records for r in rec["rules"]}
    assert {"v2.sender.name_to_bot", "v2.blocks.post_to_patch"} <= rules
    r = CliRunner().invoke(main, ["proxy", "report", "--json", str(log)])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["requests"] == len(STEPS) and summary["needing_translation"] > 10
    assert summary["rules"]["v2.sender.name_to_bot"] >= 1
    r = CliRunner().invoke(main, ["proxy", "report", str(log)])
    assert r.exit_code == 0 and "legacy callers" in r.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"path": "/x"}\nnot json\n')
    r = CliRunner().invoke(main, ["proxy", "report", str(bad)])  # skipped and counted, not fatal
    assert r.exit_code == 0 and f"{bad}:2:" in r.output and "skipped 1 unreadable line" in r.output


def _send(client, method, path, headers, body):
    r = client.request(method, path, headers=headers, content=body)
    return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content


def test_sigterm_finishes_inflight_request():
    import threading

    from layer_migrate.proxy.canned import CannedBehaviour

    with canned_running(CannedBehaviour(delay=1.0)) as (url, _):
        port = free_port()
        p = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "proxy", "--upstream", url,
                              "--port", str(port), "--access-log", "off"], stderr=subprocess.PIPE)
        try:
            _wait(port)
            results: list[int] = []
            t = threading.Thread(target=lambda: results.append(httpx.get(
                f"http://127.0.0.1:{port}/apps/{APP}/conversations/x", timeout=10,
                headers={"accept": "application/vnd.layer+json; version=3.0"}).status_code))
            t.start()
            time.sleep(0.4)
            p.send_signal(signal.SIGTERM)
            t.join(10)
            assert results == [200]
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            rc = p.wait(20)
        # a graceful stop is a clean exit: 0, not "killed by signal 15" (systemd, Kubernetes)
        assert rc == 0, (rc, p.stderr.read().decode() if p.stderr else "")
