"""What the installation did: a DEBUG line per translated call, and a per-endpoint rule summary.

A service migrated without a code change has no access log of its own for the Layer calls, so
the installation keeps one: each call the engine touched is logged at DEBUG on the
``layer_migrate.inprocess`` logger with its endpoint, status and rule ids — never headers,
bodies or query strings (tokens live there) — and counted for ``--summary``.

The recording hooks onto the two decision points of the shared exchange loop's :class:`Migrator`
(``plan`` and ``finish``) so every face (requests, httpx, aiohttp) is recorded the same way.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..exchange import Request, Response

__all__ = ["CallLog", "new_migrator", "log"]

log = logging.getLogger("layer_migrate.inprocess")


def _endpoint(plan_endpoint: str | None, req: Request) -> str:
    return plan_endpoint or f"{req.method} (unknown endpoint)"


class CallLog:
    """Thread-safe counters: endpoint → calls, and endpoint → rule id → times applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.rules: dict[str, Counter[str]] = {}
        self.refused: Counter[str] = Counter()

    def reset_after_fork(self) -> None:
        """A lock held by another thread at fork time would never be released in the child."""
        self._lock = threading.Lock()

    def record(self, endpoint: str, applied: list[str], status: int, *, new_call: bool = True) -> None:
        with self._lock:
            if new_call:
                self.calls[endpoint] += 1
            self.rules.setdefault(endpoint, Counter()).update(applied)

    def record_refusal(self, endpoint: str, error_id: str) -> None:
        with self._lock:
            self.calls[endpoint] += 1
            self.refused[f"{endpoint}: {error_id}"] += 1

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{endpoint: {"calls": n, "rules": {rule_id: n}}}``, endpoints sorted."""
        with self._lock:
            return {ep: {"calls": n, "rules": dict(sorted(self.rules.get(ep, Counter()).items()))}
                    for ep, n in sorted(self.calls.items())}

    def format(self) -> str:
        """The ``--summary`` text: one block per endpoint."""
        data = self.summary()
        if not data:
            return "layer-migrate: no Layer calls were made"
        lines = ["layer-migrate: rules applied per endpoint"]
        for ep, info in data.items():
            lines.append(f"  {ep}: {info['calls']} call(s)")
            for rule, n in info["rules"].items():
                lines.append(f"    {rule} x{n}")
            if not info["rules"]:
                lines.append("    (no rule: passed through)")
        with self._lock:
            for what, n in sorted(self.refused.items()):
                lines.append(f"  refused {what} x{n}")
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _recording_class() -> type:
    """Defined on first use: the exchange loop (asyncio, the proxy's config) is imported only
    once a Layer call is made, so ``layer-migrate run`` adds little to a program's start-up."""
    from ..errors import LayerError
    from ..proxy.migrator import Migrator

    class RecordingMigrator(Migrator):
        """The exchange loop's :class:`Migrator`, recording each decided call into a :class:`CallLog`."""

        def __init__(self, *args: Any, calls: CallLog, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.calls = calls

        def plan(self, req: Request) -> Any:
            try:
                return super().plan(req)
            except LayerError as exc:  # refused locally: nothing was sent
                from .. import routes

                m = routes.match(req.method, req.path)
                ep = _endpoint(m.name if m is not None else None, req)
                self.calls.record_refusal(ep, exc.id)
                log.debug("layer call %s %s refused locally: %s (%d)", req.method,
                          req.path.split("?", 1)[0], exc.id, exc.status)
                raise

        def finish(self, plan: Any, resp: Response) -> Response:
            out = super().finish(plan, resp)
            ep = _endpoint(plan.endpoint, plan.original)
            # The flow finishes a plan twice when a response prerequisite (R10 autocreate) makes
            # it repeat the request: one call, counted once, each rule once.
            done = plan.__dict__.get("_layer_migrate_recorded")
            self.calls.record(ep, list(plan.applied[done or 0:]), out.status, new_call=done is None)
            plan.__dict__["_layer_migrate_recorded"] = len(plan.applied)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("layer call %s %s [%s] %s -> %s: status %d, rules: %s",
                          plan.original.method, plan.original.path.split("?", 1)[0], ep,
                          plan.client_version, self.upstream_version if not plan.passthrough else "unchanged",
                          out.status, ", ".join(plan.applied) or "none")
            return out

    return RecordingMigrator


def new_migrator(upstream_version: str, *, calls: CallLog, **kwargs: Any) -> Any:
    """A :class:`~layer_migrate.proxy.migrator.Migrator` that records into ``calls``."""
    return _recording_class()(upstream_version, calls=calls, **kwargs)
