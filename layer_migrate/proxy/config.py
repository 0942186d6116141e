"""Proxy configuration: one frozen value shared by the CLI, the ASGI app and its workers.

``--workers N`` runs the app in N processes (uvicorn), so the configuration must survive a trip
through the environment: :meth:`ProxyConfig.to_env` / :meth:`from_env` serialise it as JSON.
Everything the spec marks INFERRED that the proxy decides lives here, with a default and a flag.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import ssl
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..versions import UnknownVersion, check_version
from .config_error import ConfigError, type_name
from .engine_checks import check_as_of, check_engine_options

ENV_VAR = "LAYER_MIGRATE_PROXY_CONFIG"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

#: Endpoints whose creates honour ``If-None-Match`` de-duplication (spec §1.6): a replay returns
#: the resource created the first time, so a retry of such a request can never duplicate it.
DEDUPE_ENDPOINTS = frozenset({"conversations.create", "messages.send", "announcements.send"})


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the proxy needs to know; defaults are the documented behaviour."""

    upstream: str = "http://127.0.0.1:8000"
    upstream_version: str = "3.0"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    bot_map: str | None = None
    report_only: bool = False
    #: JSON-lines log of what each request would need (report-only mode; also usable otherwise).
    report_log: str | None = None
    #: JSON-lines access log: "-" = stderr, None = off, else a file path.
    access_log: str | None = "-"
    #: Largest request body accepted (bytes); larger → 413 Layer error.
    max_body: int = 10 * 1024 * 1024
    connect_timeout: float = 5.0
    #: Total time allowed for one upstream exchange (after connecting) → 504 when exceeded.
    upstream_timeout: float = 30.0
    #: Extra attempts for requests that are safe to repeat (idempotent, or de-duplicated creates).
    retries: int = 2
    retry_backoff: float = 0.05
    #: Add an ``If-None-Match: <uuid4>`` to creates that lack one, so they become retryable (§1.6).
    add_dedupe: bool = True
    #: Hot-path upstream client: "fast" (fastclient.py, plain-http upstreams) or "aiohttp".
    upstream_client: str = "fast"
    #: PEM bundle of CA certificates to trust for an ``https://`` upstream (a private CA: a
    #: corporate TLS proxy, a local emulator), used *instead of* the system store. Verification
    #: is never switched off; ``None`` = the system's default trust store.
    upstream_ca: str | None = None
    #: Upstream connection pool size (per worker).
    pool_size: int = 256
    # Hardening limits (issue 11); each refusal is a Layer error, see README "Proxy limits".
    #: Seconds a request waits for a free upstream connection slot → 503 when exceeded.
    pool_wait: float = 5.0
    #: Seconds a streamed (large non-JSON) answer may go without a byte moving either way.
    stream_idle_timeout: float = 30.0
    #: Seconds a streamed answer may take in total.
    stream_total_timeout: float = 300.0
    #: Largest upstream body buffered (on the wire and after gzip/deflate decoding) → 502.
    max_upstream_body: int = 64 * 1024 * 1024
    #: Largest decoded/encoded ratio of a buffered compressed upstream body (past 1 MiB) → 502.
    max_decompress_ratio: int = 100
    #: Longest request line (method, target, version) → 431 Layer error.
    max_request_line: int = 8 * 1024
    #: Largest request header block (all field lines together) → 431 Layer error.
    max_header_bytes: int = 32 * 1024
    #: Seconds from connect (or the end of the previous answer) to a complete header block.
    header_timeout: float = 10.0
    #: Seconds to receive a request body once its headers are in → 408 Layer error.
    body_timeout: float = 30.0
    #: Idle upstream connections older than this are not reused (below uvicorn's 5 s default).
    upstream_keepalive: float = 4.0
    #: Paths the proxy answers itself (never forwarded).
    health_path: str = "/-/health"
    metrics_path: str = "/-/metrics"
    # Webhook relay (R49–R53).
    webhook_path: str = "/-/webhooks"
    webhook_target: str | None = None
    webhook_secret: str | None = None
    upstream_webhook_secret: str | None = None
    webhook_timeout: float = 5.0
    #: Seconds uvicorn waits for in-flight requests on shutdown.
    graceful_timeout: float = 30.0
    #: Engine Options overrides (``Options(**engine_options)``), e.g. conversation_updated_default.
    engine_options: dict[str, Any] = field(default_factory=dict)
    #: Emulate the service as of this date (``YYYY-MM-DD``): ``Options(as_of=...)``; None = latest.
    as_of: str | None = None
    # Operations (issue 12): logging, readiness, verify-reads, listening.
    #: Level of the process log (``debug`` … ``critical``); access records are always written.
    log_level: str = "info"
    #: ``json`` (one object per line, for collectors and ``proxy report``) or ``text``.
    log_format: str = "json"
    #: Process log file (reopened on SIGHUP / when rotated away); None = stderr.
    log_file: str | None = None
    ready_path: str = "/-/ready"
    #: Seconds one readiness probe of the upstream may take, and how long its result is reused.
    ready_timeout: float = 2.0
    ready_cache: float = 2.0
    #: Send sampled v1 GETs natively to the upstream too and compare (before a cut-over).
    verify_reads: bool = False
    verify_sample: float = 0.1
    #: Comparisons in flight per worker; beyond it samples are dropped (and counted).
    verify_max_inflight: int = 8
    #: Listen on a Unix socket / an inherited file descriptor instead of host:port.
    uds: str | None = None
    fd: int | None = None
    #: Trust ``X-Forwarded-For``/``-Proto`` from ``forwarded_allow_ips`` (behind a balancer).
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    backlog: int = 2048
    #: A folder of user rules loaded on top of the built-in ones (``--rules DIR``).
    rules_dir: str | None = None

    def __post_init__(self) -> None:
        if self.access_log in ("off", ""):
            object.__setattr__(self, "access_log", None)
        try:
            object.__setattr__(self, "upstream_version", check_version(self.upstream_version))
        except UnknownVersion as exc:
            raise ConfigError(str(exc)) from None
        if self.upstream_version not in ("2.0", "3.0") and not self.report_only:
            raise ConfigError(f"--upstream-version must be 2.0 or 3.0, not {self.upstream_version}")
        up = self.upstream.rstrip("/")
        if not (up.startswith("http://") or up.startswith("https://")):
            raise ConfigError(f"--upstream must be an http(s) URL, not {self.upstream!r}")
        object.__setattr__(self, "upstream", up)
        if self.upstream_client not in ("fast", "aiohttp"):
            raise ConfigError("upstream_client must be 'fast' or 'aiohttp'")
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.max_body < 1:
            raise ConfigError("--max-body must be positive")
        for name in ("pool_wait", "stream_idle_timeout", "stream_total_timeout", "header_timeout",
                     "body_timeout", "max_upstream_body", "max_decompress_ratio", "max_request_line",
                     "max_header_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be positive")
        relay = (self.webhook_target, self.webhook_secret, self.upstream_webhook_secret)
        if any(relay) and not all(relay):
            raise ConfigError("webhook relay needs all of --webhook-target, --webhook-secret and "
                              "--upstream-webhook-secret")
        if self.bot_map is not None and not Path(self.bot_map).is_file():
            raise ConfigError(f"{self.bot_map}: bot map file not found")
        if self.rules_dir is not None and not Path(self.rules_dir).is_dir():
            raise ConfigError(f"{self.rules_dir}: rules directory not found")
        if self.upstream_ca is not None:
            upstream_ssl_context(self.upstream_ca)  # fail at startup, not on the first request
        if self.log_level.lower() not in LOG_LEVELS:
            raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        object.__setattr__(self, "log_level", self.log_level.lower())
        if self.log_format not in ("json", "text"):
            raise ConfigError(f"--log-format must be json or text, not {self.log_format!r}")
        if not 0.0 <= self.verify_sample <= 1.0:
            raise ConfigError(f"--verify-sample must be between 0 and 1, not {self.verify_sample}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, not {self.port}")
        check_engine_options(self.engine_options)
        if self.as_of is not None:
            object.__setattr__(self, "as_of", check_as_of(self.as_of))

    @property
    def engine_kwargs(self) -> dict[str, Any]:
        """``Options(**engine_kwargs)``: the engine options plus ``as_of`` (an explicit engine
        option wins over what the date implies, inside ``Options``)."""
        out = dict(self.engine_options)
        if self.as_of is not None:
            import datetime

            out.setdefault("as_of", datetime.date.fromisoformat(self.as_of))
        return out

    @property
    def webhooks_enabled(self) -> bool:
        return bool(self.webhook_target)

    def replace(self, **changes: Any) -> ProxyConfig:
        return dataclasses.replace(self, **changes)

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ProxyConfig:
        env = os.environ if environ is None else environ
        raw = env.get(ENV_VAR)
        if not raw:
            raise ConfigError(f"{ENV_VAR} is not set (start the proxy with `layer-migrate proxy`)")
        return cls(**json.loads(raw))

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> ProxyConfig:
        """``[proxy]`` (or the top level) of a TOML file with ``overrides`` on top.

        A plain reader for library use; ``layer-migrate proxy`` and the ASGI factory go through
        :func:`.settings.load`, which adds the environment and pydantic type checks.
        """
        values = read_toml(path)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("as_of"), (datetime.date,)):
            values["as_of"] = values["as_of"].isoformat()
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """``[proxy]`` (or the top level) of ``path`` with field-name keys; other tables skipped."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    section = data.get("proxy", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{p}: [proxy] must be a table")
    fields = typing.get_type_hints(ProxyConfig)
    out: dict[str, Any] = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        if isinstance(value, dict) and name != "engine_options":
            if name in fields:
                raise ConfigError(f"{p}: {key}: expected {type_name(fields[name])}, got a table")
            continue  # other sections ([emulator], ...) of a shared file
        if name not in fields:
            raise ConfigError(f"{p}: unknown proxy setting {key!r} "
                              f"(settings are the command line's long names, e.g. 'upstream-timeout')")
        out[name] = value
    return out



def upstream_ssl_context(ca_file: str) -> ssl.SSLContext:
    """A verifying client context that trusts the CA certificates in the PEM file ``ca_file``.

    Hostname checking and certificate verification stay on (``ssl.create_default_context``);
    a missing, unreadable or non-PEM file is a one-line :class:`ConfigError` naming it.
    """
    p = Path(ca_file)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{ca_file}: cannot read --upstream-ca file: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"{ca_file}: --upstream-ca is not a PEM certificate bundle "
                          "(no BEGIN CERTIFICATE block)")
    try:
        return ssl.create_default_context(cafile=str(p))
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigError(f"{ca_file}: --upstream-ca is not a valid PEM certificate bundle: "
                          f"{getattr(exc, 'reason', None) or exc}") from None
    except OSError as exc:  # pragma: no cover - raced with the read above
        raise ConfigError(f"{ca_file}: cannot read --upstream-ca file: {exc.strerror or exc}") from None
