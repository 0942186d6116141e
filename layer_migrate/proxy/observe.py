"""What the proxy records about each exchange: metrics, the access record, the report record.

Kept out of the ASGI app so the app's hot path is one call: :meth:`Recorder.request` after the
answer was sent. Nothing secret is recorded: no headers except ``user-agent``, no bodies, paths
without their query string, endpoints by *name* (pass-through requests are matched against the
route table too, so a 3.0 caller shows ``conversations.get``, never a raw UUID path).
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from .. import routes
from .config import ProxyConfig
from .expected import engine_of, response_rules
from .logs import LogFormat, close_sink, json_line, line_sink, record_logger
from .metrics import Metrics
from .migrator import Migrator, Outcome


class Recorder:
    """Metrics plus the access and report logs of one :class:`~.app.ProxyApp`."""

    def __init__(self, config: ProxyConfig, metrics: Metrics, migrator: Migrator) -> None:
        self.config = config
        self.metrics = metrics
        self.migrator = migrator
        self.mode_default = "report" if config.report_only else "translate"
        self.access: logging.Logger | None = None
        self.report: logging.Logger | None = None
        self._sinks: list[tuple[logging.Logger, Any]] = []
        self._endpoints: dict[tuple[str, str], str] = {}
        self._engine: Any = None

    def open(self) -> None:
        cfg = self.config
        tag = f"{id(self):x}"  # several apps in one process (tests) keep their own files
        if cfg.access_log:
            name = "layer_migrate.proxy.access" + ("" if cfg.access_log == "-" else f".{tag}")
            # ProxyConfig validates log_format as json|text at load.
            self.access, sink = record_logger(name, cfg.access_log, cast(LogFormat, cfg.log_format))
            self._sinks.append((self.access, sink))
        if cfg.report_log:
            self.report, sink = record_logger(f"layer_migrate.proxy.report.{tag}", cfg.report_log, "json")
            self._sinks.append((self.report, sink))

    def flush(self) -> None:
        """Wait until every record so far is in its file (tests, the demo reading the log)."""
        for _lg, sink in self._sinks:
            if sink is not None:
                sink.drain()

    def close(self) -> None:
        for lg, sink in self._sinks:
            close_sink(lg, sink)
        self._sinks.clear()

    # -- per request ------------------------------------------------------------------------------

    def endpoint_name(self, method: str, path: str) -> str:
        """The route-table name of ``method path`` ("other" when no Platform endpoint matches)."""
        key = (method, path)
        name = self._endpoints.get(key)
        if name is None:
            m = routes.match(method, path)
            name = m.name if m is not None else "other"
            if len(self._endpoints) > 8192:
                self._endpoints.clear()
            self._endpoints[key] = name
        return name

    def expected_response_rules(self, endpoint: str | None, client_version: str | None) -> list[str]:
        if endpoint is None or client_version is None:
            return []
        if self._engine is None:
            self._engine = engine_of(self.migrator.engine)
        return list(response_rules(self._engine, endpoint, self.config.upstream_version, client_version))

    def request(self, scope: dict[str, Any], headers: dict[str, str], outcome: Outcome,
                seconds: float, request_id: str | None) -> None:
        plan = outcome.plan
        resp = outcome.response
        mt = self.metrics
        if plan is not None and plan.endpoint:
            endpoint = plan.endpoint
        else:
            endpoint = self.endpoint_name(scope["method"], scope["path"])
        mode = self.mode_default
        if mode == "translate" and plan is not None and plan.passthrough:
            mode = "passthrough"
        client_version = plan.client_version if plan is not None else "?"
        mt.request(client_version, endpoint, mode, resp.status, seconds)
        response_applied: list[str] = []
        expected: list[str] = []
        if plan is not None:
            response_applied = getattr(plan, "response_applied", [])
            request_applied = [r for r in plan.applied if r not in response_applied]
            if self.config.report_only:
                mt.rules_applied(request_applied, "request")
                expected = self.expected_response_rules(plan.endpoint, plan.client_version) \
                    if plan.client_version != self.config.upstream_version else []
                mt.rules_applied(expected, "expected")
            else:
                mt.rules_applied(request_applied, "request")
                mt.rules_applied(response_applied, "response")
        if outcome.attempts:
            mt.upstream_latency.observe(outcome.upstream_seconds)
            if outcome.attempts > 1:
                mt.retries.inc(outcome.attempts - 1)
        if outcome.error:
            stage, _, detail = outcome.error.partition(": ")
            if stage == "upstream":
                mt.child(mt.upstream_errors, detail).inc()
            else:
                mt.child(mt.translation_errors, stage).inc()
        pre = self.migrator.prereqs
        mt.prerequisite_totals(pre.created, pre.existing)
        if self.access is None and self.report is None:
            return
        client = scope.get("client")
        now = time.time()
        rec = {
            "ts": round(now, 3), "kind": "request", "method": scope["method"],
            "path": scope["path"], "endpoint": endpoint,
            # what was sent upstream (R38/R39 turn blocks POST/DELETE into PATCH /users/:id)
            "upstream_method": plan.request.method if plan else None,
            "upstream_path": plan.request.route_path if plan else None,
            "status": resp.status,
            "client_version": plan.client_version if plan else None,
            "upstream_version": self.config.upstream_version,
            "rules": plan.applied if plan else [],
            "response_rules": expected if self.config.report_only else response_applied,
            "lossy": plan.lossy if plan else [],
            "ms": round(seconds * 1000, 3), "upstream_ms": round(outcome.upstream_seconds * 1000, 3),
            "attempts": outcome.attempts, "error": outcome.error,
            "client": client[0] if client else None, "user_agent": headers.get("user-agent"),
        }
        message = f"{scope['method']} {scope['path']} {resp.status}"
        for lg in (self.access, self.report):
            if lg is not None:
                _record(lg, message, request_id, rec, now)

    def webhook(self, path: str, event_type: str | None, relayed: list[str], outcome: str,
                status: int, request_id: str | None) -> None:
        self.metrics.child(self.metrics.webhooks, outcome).inc()
        if self.access is not None:
            self.access.info("webhook %s %s", event_type, outcome, extra={"request_id": request_id, "fields": {
                "ts": round(time.time(), 3), "kind": "webhook", "path": path, "event_type": event_type,
                "relayed": relayed, "outcome": outcome, "status": status}})

    def verify(self, fields: dict[str, Any], request_id: str | None) -> None:
        """A verify-reads result (see :mod:`.verify`): to the access and report logs."""
        rec = {"ts": round(time.time(), 3), "kind": "verify", **fields}
        for lg in (self.access, self.report):
            if lg is not None:
                lg.info("verify %s %s", fields.get("endpoint"), fields.get("outcome"),
                        extra={"request_id": request_id, "fields": rec})


def _record(lg: logging.Logger, message: str, request_id: str | None, fields: dict[str, Any],
            created: float) -> None:
    """One INFO record: a ready JSON line straight to its sink when it has one (the hot path,
    see :mod:`.logs`), else through :mod:`logging` with the same content."""
    sink = line_sink(lg)
    if sink is not None:
        sink.put_line(json_line(lg.name, message, request_id, fields, created))
    else:
        lg.info("%s", message, extra={"fields": fields, "request_id": request_id})
