"""Running the proxy as a service: uvicorn settings, workers, signals, logging, metrics directory.

* Listening: ``host:port``, a Unix socket (``uds``) or an inherited descriptor (``fd``, systemd
  socket activation), ``backlog``, ``proxy_headers`` + ``forwarded_allow_ips`` behind a balancer.
* ``--workers N``: the configuration travels to the workers in the environment (JSON), and so does
  ``PROMETHEUS_MULTIPROC_DIR`` — set to a fresh directory here, *before* any worker imports
  ``prometheus_client`` — so every scrape aggregates all workers (:mod:`.metrics`).
* SIGTERM (and SIGINT): uvicorn stops accepting, lets in-flight requests finish for
  ``graceful_timeout`` seconds, and the process exits **0** (uvicorn re-raises the signal it
  caught after shutting down; the handler installed here turns that into a normal exit, so
  systemd and Kubernetes see a clean stop rather than "killed by signal 15").
* Logging is configured once here (and again by each worker's app factory) through
  :mod:`.logs`; uvicorn is told not to install its own handlers.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
from typing import Any

from .config import ENV_VAR, ProxyConfig

log = logging.getLogger("layer_migrate.proxy")


def uvicorn_kwargs(cfg: ProxyConfig) -> dict[str, Any]:
    """The ``uvicorn.run``/``uvicorn.Config`` keywords for ``cfg`` (httptools + uvloop if present)."""
    kwargs: dict[str, Any] = dict(
        lifespan="on", log_config=None, log_level=cfg.log_level, access_log=False,
        timeout_graceful_shutdown=int(cfg.graceful_timeout), server_header=False,
        date_header=True, backlog=cfg.backlog, proxy_headers=cfg.proxy_headers,
        forwarded_allow_ips=cfg.forwarded_allow_ips,
    )
    if cfg.uds:
        kwargs["uds"] = cfg.uds
    elif cfg.fd is not None:
        kwargs["fd"] = cfg.fd
    else:
        kwargs["host"], kwargs["port"] = cfg.host, cfg.port
    try:
        import httptools  # noqa: F401

        from .serving import server_kwargs

        kwargs.update(server_kwargs())  # httptools + header limits and slowloris deadlines
    except ImportError:  # pragma: no cover - httptools is a dependency
        kwargs["http"] = "h11"
    try:
        import uvloop  # noqa: F401

        kwargs["loop"] = "uvloop"
    except ImportError:  # pragma: no cover - Windows
        kwargs["loop"] = "asyncio"
    return kwargs


def listen_address(cfg: ProxyConfig) -> str:
    if cfg.uds:
        return f"unix:{cfg.uds}"
    if cfg.fd is not None:
        return f"fd:{cfg.fd}"
    return f"http://{cfg.host}:{cfg.port}"


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def run(cfg: ProxyConfig) -> None:
    """Serve ``cfg`` until SIGTERM/SIGINT; returns (exit 0) after a graceful shutdown."""
    from . import logs
    from .metrics import MULTIPROC_ENV, fresh_multiprocess_dir

    logs.setup(cfg.log_level, cfg.log_format, cfg.log_file)  # type: ignore[arg-type]
    import uvicorn

    kwargs = uvicorn_kwargs(cfg)
    own_dir: str | None = None
    if cfg.workers > 1:
        given = os.environ.get(MULTIPROC_ENV)
        metrics_dir = fresh_multiprocess_dir(given)
        own_dir = None if given else metrics_dir
        os.environ[MULTIPROC_ENV] = metrics_dir
        os.environ[ENV_VAR] = cfg.to_env()
    log.info("layer-migrate proxy: %s → %s (version %s%s%s, %d worker%s)", listen_address(cfg),
             cfg.upstream, cfg.upstream_version, ", report-only" if cfg.report_only else "",
             ", verify-reads" if cfg.verify_reads else "", cfg.workers,
             "s" if cfg.workers > 1 else "",
             extra={"fields": {"kind": "start", "listen": listen_address(cfg),
                               "upstream": cfg.upstream, "workers": cfg.workers}})
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    try:
        if cfg.workers > 1:
            uvicorn.run("layer_migrate.proxy.app:create_app", factory=True, workers=cfg.workers,
                        **kwargs)
        else:
            from .app import ProxyApp

            uvicorn.run(ProxyApp(cfg), **kwargs)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
        log.info("layer-migrate proxy: stopped", extra={"fields": {"kind": "stop"}})
        sys.stderr.flush()

