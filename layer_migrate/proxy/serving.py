"""Run the proxy in a background thread (tests, the demo, notebooks).

``with running(ProxyConfig(upstream=url)) as proxy: proxy.url`` — a real uvicorn server on a
free 127.0.0.1 port, stopped gracefully (in-flight requests finish) on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from .app import ProxyApp
from .config import ProxyConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningProxy:
    url: str
    app: ProxyApp
    server: uvicorn.Server
    config: ProxyConfig


@contextmanager
def running(config: ProxyConfig) -> Iterator[RunningProxy]:
    """Serve ``config`` (its host/port; port 0 = pick a free one) until the block ends."""
    if config.port == 0 or config.port == 8080:
        config = config.replace(port=free_port())
    app = ProxyApp(config)
    server = uvicorn.Server(uvicorn.Config(
        app, host=config.host, port=config.port, log_level="warning", lifespan="on",
        access_log=False, timeout_graceful_shutdown=int(config.graceful_timeout)))
    thread = threading.Thread(target=server.run, name="layer-migrate-proxy", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("proxy did not start")
        time.sleep(0.01)
    try:
        yield RunningProxy(f"http://{config.host}:{config.port}", app, server, config)
    finally:
        server.should_exit = True
        thread.join(30)
