"""Fixtures for the proxy tests: canned upstream, running proxies, the emulator."""

from __future__ import annotations

import pytest

from layer_migrate.proxy.canned import CannedBehaviour
from layer_migrate.proxy.canned import running as canned_running
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

V1 = "application/vnd.layer+json; version=1.1"
V10 = "application/vnd.layer+json; version=1.0"
V3 = "application/vnd.layer+json; version=3.0"


@pytest.fixture
def canned():
    with canned_running(CannedBehaviour()) as (url, behaviour):
        yield url, behaviour


@pytest.fixture(params=["fast", "aiohttp"])
def proxy_for(tmp_path, request):
    """proxy_for(upstream_url, **config) → a context manager yielding a RunningProxy; every test
    using it runs once per hot-path upstream client."""

    def make(upstream: str, **kw):
        kw.setdefault("upstream_client", request.param)
        kw.setdefault("access_log", str(tmp_path / "access.jsonl"))
        kw.setdefault("retry_backoff", 0.01)
        return running(ProxyConfig(upstream=upstream, port=0, **kw))

    return make
