"""``install()`` / ``uninstall()``: one process-wide installation of the exchange loop.

There is at most one active :class:`Installation` per process; the library hooks read it on every
request (``_state.active``), so uninstalling is immediate even where a hook could not be removed.
Installing again with the same settings returns the same installation (idempotent); with other
settings it is refused, because two configurations for the same host could not both be honoured.

Thread safety: install/uninstall serialise on one lock; the hot path only reads ``_state.active``.
Fork safety (gunicorn, Celery prefork): ``os.register_at_fork`` gives the child fresh locks and
connection pools, and keeps what the parent learnt (which bots exist upstream).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from .aiohttp_hook import AiohttpFace, hook_aiohttp
from .config import DEFAULT_HOSTS, InstallConfig, InstallError, build_config
from .httpx_hook import HttpxFace, hook_httpx
from .patching import Patch, post_import_hooks
from .record import CallLog, log, new_migrator
from .requests_hook import RequestsFace, hook_requests

__all__ = ["Installation", "InstallError", "current", "install", "uninstall"]

#: library module → function installing its hooks (module, state) -> patches.
HOOKS: dict[str, Callable[[ModuleType, Any], list[Patch]]] = {
    "requests": hook_requests,
    "httpx": hook_httpx,
    "aiohttp": hook_aiohttp,
}


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.active: Installation | None = None


_state = _State()


class Installation:
    """The active no-code-change migration of this process (see :func:`install`).

    Usable as a context manager: ``with install("3.0", upstream=...) as inst: ...`` uninstalls
    on exit. ``summary()`` / ``format_summary()`` report the rules applied per endpoint.
    """

    def __init__(self, config: InstallConfig, given: tuple[Any, ...]) -> None:
        self.config = config
        self._given = given
        self.calls = CallLog()
        self._migrator: Any = None
        self._migrator_lock = threading.Lock()
        self.requests_face = RequestsFace(self)
        self.httpx_face = HttpxFace(self)
        self.aiohttp_face = AiohttpFace(self)
        self._patches: list[Patch] = []
        self._callbacks: list[Callable[[ModuleType], None]] = []
        #: library → "hooked" / "pending import" (diagnostics; the tests read it)
        self.hooked: dict[str, str] = {}

    @property
    def migrator(self) -> Any:
        """The exchange loop's state (engine options, prerequisites already fulfilled), shared by
        every face; built on the first Layer call so start-up imports no exchange loop."""
        m = self._migrator
        if m is None:
            with self._migrator_lock:
                if self._migrator is None:
                    self._migrator = self._new_migrator()
                m = self._migrator
        return m

    def _new_migrator(self) -> Any:
        cfg = self.config
        if cfg.to is None:  # reroute only: forward every request as it is (the v1 baseline)
            return new_migrator("1.0", options=cfg.options, report_only=True, calls=self.calls)
        return new_migrator(cfg.to, options=cfg.options, calls=self.calls)

    # -- public ----------------------------------------------------------------------------------

    @property
    def to(self) -> str | None:
        return self.config.to

    @property
    def hosts(self) -> tuple[str, ...]:
        return self.config.hosts

    @property
    def upstream(self) -> str | None:
        return self.config.upstream

    @property
    def active(self) -> bool:
        return _state.active is self

    def uninstall(self) -> None:
        """Remove the hooks; requests to the Layer hosts go out unchanged again."""
        with _state.lock:
            if _state.active is not self:
                return
            _state.active = None
            post_import_hooks.unregister(self._callbacks)
            self._callbacks.clear()
            for p in reversed(self._patches):
                if not p.restore():
                    log.debug("layer-migrate: %s.%s was wrapped again by someone else; left in place "
                              "(it passes everything through now)", getattr(p.owner, "__name__", p.owner), p.name)
            self._patches.clear()
            self.hooked.clear()
            self.requests_face.close()
        log.debug("layer-migrate: uninstalled (%s)", self.config.describe())

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{endpoint: {"calls": n, "rules": {rule_id: times}}}`` of every Layer call so far."""
        return self.calls.summary()

    def format_summary(self) -> str:
        return self.calls.format()

    def __enter__(self) -> Installation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def __repr__(self) -> str:
        state = "active" if self.active else "uninstalled"
        return f"<layer_migrate.Installation {self.config.describe()} ({state})>"

    # -- internals ---------------------------------------------------------------------------------

    def _hook_all(self) -> None:
        for name, hook in HOOKS.items():
            self.hooked[name] = "pending import"

            def on_import(module: ModuleType, name: str = name, hook: Any = hook) -> None:
                with _state.lock:
                    if _state.active is not self:
                        return
                    self._patches.extend(hook(module, _state))
                    self.hooked[name] = "hooked"

            self._callbacks.append(on_import)
            post_import_hooks.register(name, on_import)

    def _after_fork_in_child(self) -> None:
        self._migrator_lock = threading.Lock()
        self.calls.reset_after_fork()
        if self._migrator is not None:
            done = set(self._migrator.prereqs.done)
            self._migrator = self._new_migrator()
            self._migrator.prereqs.done.update(done)  # bots the parent provisioned exist upstream
        self.requests_face.reset_after_fork()
        self.httpx_face.reset_after_fork()
        self.httpx_face._wrapped.clear()


def install(to: str | None = "3.0", *, hosts: Iterable[str] | str = DEFAULT_HOSTS,
            upstream: str | None = None, options: Any = None, bot_map: Any = None) -> Installation:
    """Run every request this process makes to one of ``hosts`` — through requests (any Session,
    ``requests.request``), httpx (``Client``, ``AsyncClient``, ``httpx.get``) and aiohttp
    (``ClientSession``) — through the migration exchange loop: translate the v1 request to ``to``
    (``"2.0"``/``"3.0"``; ``None`` reroutes without translating), fulfil prerequisites (bot
    identities), send, translate the answer back. ``upstream`` (``http(s)://host[:port]``) replaces
    scheme, host and port of those requests. Other hosts are untouched.

    ``options``: an :class:`~layer_migrate.Options` or a mapping of its fields; ``bot_map``: a
    JSON file path, a ``{"name": "bot user id"}`` mapping or a BotDirectory.

    Raises :class:`InstallError` (a ValueError with a one-line message) for bad settings — at
    install time, never at the first request. Installing again with the same settings returns the
    active installation; with different ones raises InstallError (``uninstall()`` first).
    """
    hosts = (hosts,) if isinstance(hosts, str) else tuple(hosts)  # an iterator is read once
    given = (to, hosts, upstream, options, bot_map if not isinstance(bot_map, dict) else dict(bot_map))
    config = build_config(to, hosts=hosts, upstream=upstream, options=options, bot_map=bot_map)
    with _state.lock:
        active = _state.active
        if active is not None:
            if active._given == given or _same(active.config, config):
                return active
            raise InstallError(f"layer-migrate is already installed ({active.config.describe()}); "
                               f"uninstall() before installing with other settings")
        inst = Installation(config, given)
        _state.active = inst
        _register_fork_handler()
        inst._hook_all()
    log.debug("layer-migrate: installed (%s)", config.describe())
    return inst


def _same(a: InstallConfig, b: InstallConfig) -> bool:
    return (a.to, a.hosts, a.upstream, a.bot_map) == (b.to, b.hosts, b.upstream, b.bot_map) and \
        a.options.describe() == b.options.describe()


def uninstall() -> None:
    """Remove the active installation, if any (idempotent)."""
    inst = _state.active
    if inst is not None:
        inst.uninstall()


def current() -> Installation | None:
    """The active installation, or None."""
    return _state.active


_fork_registered = False


def _register_fork_handler() -> None:
    global _fork_registered
    if _fork_registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=_after_fork_in_child)
    _fork_registered = True


def _after_fork_in_child() -> None:
    _state.lock = threading.RLock()  # the parent's lock may have been held by another thread
    post_import_hooks._lock = threading.RLock()
    inst = _state.active
    if inst is not None:
        inst._after_fork_in_child()
