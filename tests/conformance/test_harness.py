"""The conformance harness itself: a missing tool skips with its name, every other install problem
is a failure, and the redirects never let a request leave for another host."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import requests

from . import node_sdk
from .harness import RedirectAdapter, routed_to


def fake_tool(directory: Path, name: str, script: str = "exit 0") -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize("present, missing", [((), "node"), (("node",), "npm")])
def test_missing_tool_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, present: tuple[str, ...],
                               missing: str) -> None:
    for tool in present:
        fake_tool(tmp_path, tool)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(node_sdk.ToolMissing, match=rf"^{missing} not found on PATH"):
        node_sdk.ensure_installed()


def test_failed_npm_is_a_failure_not_a_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tool(bin_dir, "node")
    fake_tool(bin_dir, "npm", "echo 'npm ERR! 404 Not Found' >&2; exit 1")
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("LAYER_MIGRATE_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(node_sdk.InstallFailed, match=r"npm pack layer-api@2\.3\.3 exited 1:\nnpm ERR! 404"):
        node_sdk.ensure_installed()
    # nothing half-installed is left for the next run to trust
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".layer-api-2.3.3.lock"]


def test_cache_root_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LAYER_MIGRATE_CONFORMANCE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert node_sdk.cache_root() == tmp_path / "layer-migrate-conformance"
    monkeypatch.setenv("LAYER_MIGRATE_CONFORMANCE_CACHE", str(tmp_path / "x"))
    assert node_sdk.cache_root() == tmp_path / "x"


def test_redirect_refuses_other_hosts() -> None:
    with routed_to("http://127.0.0.1:9"), pytest.raises(RuntimeError, match="not the Layer API"):
        RedirectAdapter("http://127.0.0.1:9").send(requests.Request("GET", "https://example.com/").prepare())


def test_routed_to_mounts_only_inside_the_block() -> None:
    with routed_to("http://127.0.0.1:9"):
        inside = requests.Session().get_adapter("https://api.layer.com/apps/x")
        other = requests.Session().get_adapter("https://example.com/")
    outside = requests.Session().get_adapter("https://api.layer.com/apps/x")
    assert isinstance(inside, RedirectAdapter) and inside.base_url == "http://127.0.0.1:9"
    assert not isinstance(other, RedirectAdapter) and not isinstance(outside, RedirectAdapter)


def test_layerclient_source_is_the_published_file() -> None:
    from .harness import layerclient_source

    source = layerclient_source().read_text(encoding="utf-8")
    assert "class PlatformClient(object):" in source and "'https://api.layer.com/apps/{app_id}/{suffix}'" in source


SELF_CHECK_SPEC = r"""
'use strict';
var should = require(process.env.SHOULD_MODULE);
describe('Self check', function() {
  it('passes', function() { (1).should.be.eql(1); });
  it('fails with a circular should.js error', function() { (1).should.be.eql(2); });
  it('fails in a callback', function(done) { setTimeout(function() { (2).should.be.eql(3); done(); }, 1); });
  it('passes', function() {});
  describe('with a broken hook', function() {
    before(function() { throw new Error('hook broke'); });
    it('never runs', function() {});
  });
});
"""


def test_mocha_report_names_every_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reporter must report failures as failures (mocha 2's own JSON reporter loses the whole
    report on a should.js failure) and a hook failure as a case, and number repeated titles."""
    try:
        package = node_sdk.ensure_installed()
    except node_sdk.ToolMissing as exc:
        pytest.skip(str(exc))
    spec = tmp_path / "self-check.spec.js"
    spec.write_text(SELF_CHECK_SPEC)
    monkeypatch.setenv("SHOULD_MODULE", str(package / "node_modules" / "should"))
    ca = tmp_path / "unused-ca.pem"
    ca.write_text("")
    results = node_sdk.run_suite(package, target="127.0.0.1:9", ca=ca, token="t", app_id="a",
                                 spec_paths=[str(spec)])
    assert [(r.key, r.passed) for r in results[:4]] == [
        ("self-check: Self check passes", True),
        ("self-check: Self check fails with a circular should.js error", False),
        ("self-check: Self check fails in a callback", False),
        ("self-check: Self check passes #2", True),
    ]
    [hook] = results[4:]  # mocha titles it '"before all" hook for "<a test>"'
    assert hook.key.startswith('self-check: Self check with a broken hook "before all" hook') and not hook.passed
    assert "expected 1 to equal 2" in results[1].error and "hook broke" in results[4].error
