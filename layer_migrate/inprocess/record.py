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
from typing import Any

from ..errors import LayerError
from ..exchange import Request, Response
from ..proxy.exchange_loop import Migrator

__all__ = ["CallLog", "RecordingMigrator", "log"]

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

    def record(self, endpoint: str, applied: list[str], status: int) -> None:
        with self._lock:
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


class RecordingMigrator(Migrator):
    """The exchange loop's :class:`Migrator`, recording each decided call into a :class:`CallLog`."""

    def __init__(self, *args: Any, calls: CallLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = calls

    def plan(self, req: Request) -> Any:
        try:
            return super().plan(req)
        except LayerError as exc:  # refused locally: nothing was sent
            ep = _endpoint(None, req)
            try:
                from .. import routes

                m = routes.match(req.method, req.path)
                ep = m.name if m is not None else ep
            except Exception:  # pragma: no cover - routing never fails on a parsed request
                pass
            self.calls.record_refusal(ep, exc.id)
            log.debug("layer call %s %s refused locally: %s (%d)", req.method,
                      req.path.split("?", 1)[0], exc.id, exc.status)
            raise

    def finish(self, plan: Any, resp: Response) -> Response:
        out = super().finish(plan, resp)
        ep = _endpoint(plan.endpoint, plan.original)
        self.calls.record(ep, list(plan.applied), out.status)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("layer call %s %s [%s] %s -> %s: status %d, rules: %s",
                      plan.original.method, plan.original.path.split("?", 1)[0], ep,
                      plan.client_version, self.upstream_version if not plan.passthrough else "unchanged",
                      out.status, ", ".join(plan.applied) or "none")
        return out
