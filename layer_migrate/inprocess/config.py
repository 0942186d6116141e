"""What an installation is configured with, validated before any hook goes in.

Bad configuration must fail at install time with a one-line message, never at the first request
(issue 10): a service that boots with a wrong upstream should not find out an hour later when the
first Layer call of the day goes out. So every check — version, upstream URL, hosts, bot map,
options — happens here, and nothing here performs I/O other than reading the bot map file.

The same settings come from the environment for ``layer-migrate run`` and containers
(``LAYER_MIGRATE_TO``, ``LAYER_MIGRATE_UPSTREAM``, ``LAYER_MIGRATE_HOSTS``, ``LAYER_MIGRATE_BOT_MAP``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..identity import BotDirectory
from ..options import Options
from ..versions import UnknownVersion, check_version

__all__ = ["DEFAULT_HOSTS", "ENV", "InstallConfig", "InstallError", "build_config", "config_from_env"]

DEFAULT_HOSTS: tuple[str, ...] = ("api.layer.com",)
#: Platform versions an installation can translate to (a v1 client's calls go *up*).
TARGETS: tuple[str, ...] = ("2.0", "3.0")

#: Environment variable names (the env form of ``layer-migrate run``'s options).
ENV = {
    "to": "LAYER_MIGRATE_TO",
    "upstream": "LAYER_MIGRATE_UPSTREAM",
    "hosts": "LAYER_MIGRATE_HOSTS",
    "bot_map": "LAYER_MIGRATE_BOT_MAP",
    "summary": "LAYER_MIGRATE_SUMMARY",
    "log_level": "LAYER_MIGRATE_LOG_LEVEL",
}


class InstallError(ValueError):
    """Bad installation settings; ``str(exc)`` is the one-line message to show and ``field`` the
    setting at fault (``to``, ``upstream``, ``hosts``, ``bot_map``, ``options``)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InstallConfig:
    """Validated settings of one installation.

    ``to``: target version (``"2.0"``/``"3.0"``), or ``None`` to reroute without translating (the
    direct-v1 baseline of a migration test). ``hosts``: lower-case ``host`` or ``host:port``
    entries whose requests are taken over. ``upstream``: ``scheme://host[:port][/prefix]`` that
    replaces scheme, host and port of those requests, or ``None`` to send them where they were
    addressed.
    """

    to: str | None
    hosts: tuple[str, ...]
    upstream: str | None
    options: Options
    bot_map: str | None = None

    def __post_init__(self) -> None:
        # ``matches`` runs on every request of the process, Layer or not: one set lookup.
        object.__setattr__(self, "_exact", frozenset(self.hosts))
        object.__setattr__(self, "_with_ports", any(":" in h for h in self.hosts))
        object.__setattr__(self, "_names", tuple({h.split(":", 1)[0] for h in self.hosts}))

    def matches(self, host: str | None, port: int | None = None) -> bool:
        """Whether a request to ``host`` (and ``port``, when not the scheme's default) is ours."""
        if not host:
            return False
        exact = self._exact  # type: ignore[attr-defined]
        if host in exact:
            return True
        h = host.lower()
        if h in exact:
            return True
        return port is not None and self._with_ports and f"{h}:{port}" in exact  # type: ignore[attr-defined]

    def may_be_in(self, url: str) -> bool:
        """Cheap pre-check on a whole URL string: False when none of the host names occurs in it
        (then it is certainly not ours and needs no parsing)."""
        low = url.lower()
        return any(name in low for name in self._names)  # type: ignore[attr-defined]

    def may_match(self, host: str | None) -> bool:
        """Cheap pre-check for hot paths with an already lower-cased host (yarl, httpx): False
        means certainly not ours; True means ask :meth:`matches` with the port."""
        return host in self._exact or self._with_ports  # type: ignore[attr-defined]

    def describe(self) -> str:
        up = self.upstream or "(the addressed host)"
        target = self.to or "unchanged (reroute only)"
        return f"to={target} hosts={','.join(self.hosts)} upstream={up}"


def _check_upstream(upstream: str) -> str:
    try:
        parts = urlsplit(upstream)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise InstallError(f"upstream {upstream!r} is not a valid URL: {exc}", "upstream") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InstallError(f"upstream must be an http(s)://host[:port] URL, not {upstream!r}", "upstream")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InstallError(f"upstream {upstream!r} must not carry credentials, a query or a fragment", "upstream")
    del port
    return upstream.rstrip("/")


def _check_hosts(hosts: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(hosts, str):
        hosts = [hosts]
    out: list[str] = []
    for h in hosts:
        if not isinstance(h, str) or not h.strip():
            raise InstallError(f"hosts must be host names, not {h!r}", "hosts")
        h = h.strip().lower()
        if "/" in h or "@" in h or " " in h:
            raise InstallError(f"host {h!r} must be a bare host name or host:port (no scheme or path)", "hosts")
        out.append(h)
    if not out:
        raise InstallError("hosts must name at least one host", "hosts")
    return tuple(dict.fromkeys(out))


def _bots(bot_map: Any) -> tuple[BotDirectory | None, str | None]:
    if bot_map is None:
        return None, None
    if isinstance(bot_map, BotDirectory):
        return bot_map, None
    if isinstance(bot_map, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in bot_map.items()):
            raise InstallError('bot_map must map display names to bot user ids ({"Support": "bot-support"})', "bot_map")
        return BotDirectory(dict(bot_map)), None
    if isinstance(bot_map, (str, os.PathLike)):
        try:
            return BotDirectory.load(os.fspath(bot_map)), os.fspath(bot_map)
        except ValueError as exc:
            raise InstallError(str(exc), "bot_map") from None
    raise InstallError(f"bot_map must be a file path, a mapping or a BotDirectory, not {type(bot_map).__name__}", "bot_map")


def _options(options: Any) -> Options:
    if options is None:
        return Options()
    if isinstance(options, Options):
        return options
    if isinstance(options, Mapping):
        known = {f.name for f in dataclasses.fields(Options)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise InstallError(f"unknown option {unknown[0]!r}; known: {', '.join(sorted(known))}", "options")
        try:
            return Options(**options)
        except (TypeError, ValueError) as exc:
            raise InstallError(f"options: {exc}", "options") from None
    raise InstallError(f"options must be an Options or a mapping, not {type(options).__name__}", "options")


def build_config(to: str | None = "3.0", *, hosts: Iterable[str] | str = DEFAULT_HOSTS,
                 upstream: str | None = None, options: Any = None, bot_map: Any = None) -> InstallConfig:
    """Validate ``install()``'s arguments. Raises :class:`InstallError` (one line) on bad input."""
    target: str | None
    if to is None:
        target = None
    else:
        try:
            target = check_version(str(to))
        except UnknownVersion as exc:
            raise InstallError(str(exc), "to") from None
        if target not in TARGETS:
            raise InstallError(f"to must be one of {', '.join(TARGETS)} (or None to reroute only), "
                               f"not {target}", "to")
    up = _check_upstream(upstream) if upstream is not None else None
    opts = _options(options)
    bots, bot_path = _bots(bot_map)
    if bots is not None:
        opts = dataclasses.replace(opts, bots=bots)
    return InstallConfig(target, _check_hosts(hosts), up, opts, bot_path)


def config_from_env(environ: Mapping[str, str] | None = None) -> InstallConfig | None:
    """The configuration ``LAYER_MIGRATE_*`` variables describe, or None when ``LAYER_MIGRATE_TO``
    is unset. Errors name the variable."""
    env = os.environ if environ is None else environ
    to = env.get(ENV["to"])
    if not to:
        return None
    kwargs: dict[str, Any] = {}
    if env.get(ENV["upstream"]):
        kwargs["upstream"] = env[ENV["upstream"]]
    if env.get(ENV["hosts"]):
        kwargs["hosts"] = [h for h in env[ENV["hosts"]].split(",") if h.strip()]
    if env.get(ENV["bot_map"]):
        kwargs["bot_map"] = Path(env[ENV["bot_map"]])
    target = None if to.strip().lower() in ("none", "off", "reroute") else to.strip()
    try:
        return build_config(target, **kwargs)
    except InstallError as exc:
        raise InstallError(f"{ENV.get(exc.field, 'LAYER_MIGRATE')}: {exc}", exc.field) from None


def config_to_env(cfg: InstallConfig) -> dict[str, str]:
    """The ``LAYER_MIGRATE_*`` variables that reproduce ``cfg`` in a child process (options other
    than the bot map are not carried: ``run`` exposes none)."""
    env = {ENV["to"]: cfg.to or "none", ENV["hosts"]: ",".join(cfg.hosts)}
    if cfg.upstream:
        env[ENV["upstream"]] = cfg.upstream
    if cfg.bot_map:
        env[ENV["bot_map"]] = os.path.abspath(cfg.bot_map)
    return env
