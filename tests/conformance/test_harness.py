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
