"""Prometheus metrics for the proxy, with ``prometheus_client``.

One process (``--workers 1``, tests, the in-process faces) uses a private registry plus the
standard process/platform collectors. With ``--workers N`` the CLI points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory *before* any worker imports
``prometheus_client``: every worker then writes its samples to memory-mapped files there and any
worker answering ``/-/metrics`` aggregates all of them (``MultiProcessCollector``) — one coherent
view per scrape, whichever worker Prometheus reaches. Counters and histograms are summed, the
in-flight gauge is the live sum, ``layer_migrate_build_info`` is one series, and process metrics
(which a collector cannot read across processes) are per-worker gauges labelled ``pid``.

Labels are endpoint *names*, rule ids, statuses and kinds — never paths or ids — so cardinality
stays bounded. The hot path keeps its cost to dictionary look-ups: label children are bound once
per distinct label tuple and cached here (``prometheus_client``'s ``labels()`` takes a lock).

Rule applications are the one family counted per *rule*: a v1 message read applies seven, and
seven locked ``inc()`` calls cost the translating path ≈ 5 µs per request (issue 14 profile).
They are tallied in a plain dict and added to the counter in one go (:meth:`Metrics.flush`)
whenever this process renders a scrape, when it closes, and — with ``--workers N``, where
another worker may answer the scrape — at least every :data:`FLUSH_SECONDS`.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

#: Longest a worker's tallied rule applications wait before another worker's scrape sees them.
FLUSH_SECONDS = 1.0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("layer-migrate")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


_VERSION = _version()

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Latency buckets (seconds): sub-millisecond proxy overhead up to the 30 s upstream timeout.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: What ``/-/metrics`` answers with.
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    """The shared metrics directory when running as one of several workers, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """The proxy's metric families and cached label children (see module docstring)."""

    def __init__(self, upstream_version: str = "3.0", mode: str = "translate") -> None:
        self.multiprocess = multiprocess_dir() is not None
        reg = self.registry = CollectorRegistry(auto_describe=True)
        if not self.multiprocess:
            from prometheus_client import PlatformCollector, ProcessCollector

            ProcessCollector(registry=reg)
            PlatformCollector(registry=reg)
        live: dict[str, Any] = {"multiprocess_mode": "livesum"} if self.multiprocess else {}
        self.requests = Counter(
            "layer_proxy_requests", "Client requests answered, by client version, endpoint, mode "
            "(translate, passthrough, report) and status.",
            ("client_version", "endpoint", "mode", "status"), registry=reg)
        self.rules = Counter(
            "layer_proxy_rules_applied", "Rule applications, by rule id and side "
            "(request: translated up; response: translated down; expected: report-only forecast).",
            ("rule", "side"), registry=reg)
        self.translation_errors = Counter(
            "layer_proxy_translation_errors", "Requests refused or failed in translation, by stage.",
            ("stage",), registry=reg)
        self.upstream_errors = Counter(
            "layer_proxy_upstream_errors", "Upstream failures by kind (connect, connect_timeout, "
            "timeout, reset, tls).", ("kind",), registry=reg)
        self.retries = Counter(
            "layer_proxy_upstream_retries", "Extra upstream attempts made for safe-to-repeat requests.",
            registry=reg)
        self.prerequisites = Counter(
            "layer_proxy_prerequisites", "Prerequisites fulfilled upstream, by result (created, "
            "existing).", ("result",), registry=reg)
        self.webhooks = Counter(
            "layer_proxy_webhooks", "Webhook deliveries by outcome (relayed, dropped, "
            "bad_signature, failed).", ("outcome",), registry=reg)
        self.verify = Counter(
            "layer_proxy_verify_reads", "Verify-reads comparisons by endpoint and outcome (same; "
            "different; changed: the resource changed between the reads; dropped; failed).", ("endpoint", "outcome"), registry=reg)
        self.differences = Counter(
            "layer_proxy_verify_differences", "Differences between a native v1 read and the "
            "proxy's downgraded answer, by endpoint and the rule they are attributed to.",
            ("endpoint", "rule"), registry=reg)
        self.inflight = Gauge("layer_proxy_inflight_requests", "Client requests being processed now.",
                              registry=reg, **live)
        self.duration = Histogram(
            "layer_proxy_request_duration_seconds", "Time from reading a client request to the end "
            "of its answer, by mode.", ("mode",), buckets=BUCKETS, registry=reg)
        self.upstream_latency = Histogram(
            "layer_proxy_upstream_latency_seconds", "Time spent waiting for the upstream per client "
            "request (all attempts).", buckets=BUCKETS, registry=reg)
        build_help = "layer-migrate build and run information (always 1)."
        build_labels = ("version", "python", "upstream_version", "mode")
        build = (Gauge("layer_migrate_build_info", build_help, build_labels, registry=reg,
                       multiprocess_mode="max") if self.multiprocess
                 else Gauge("layer_migrate_build_info", build_help, build_labels, registry=reg))
        build.labels(_VERSION, platform.python_version(), upstream_version, mode).set(1)
        self._process: dict[str, Gauge] = {}
        if self.multiprocess:
            for name, doc in (
                ("process_resident_memory_bytes", "Resident memory size in bytes, per worker."),
                ("process_virtual_memory_bytes", "Virtual memory size in bytes, per worker."),
                ("process_cpu_seconds", "Total user and system CPU time in seconds, per worker."),
                ("process_open_fds", "Number of open file descriptors, per worker."),
                ("process_start_time_seconds", "Start time of the worker since the epoch, seconds."),
            ):
                self._process[name] = Gauge(name, doc, registry=reg, multiprocess_mode="liveall")
            self.update_process_metrics()
        self._children: dict[tuple[Any, ...], Any] = {}
        self._prereq_seen = (0, 0)
        #: (rule, side) → applications not yet added to :attr:`rules` (see :meth:`flush`)
        self._rule_tally: dict[tuple[str, str], int] = {}

    # -- hot path -------------------------------------------------------------------------------

    def child(self, family: Any, *labels: str) -> Any:
        """``family.labels(*labels)``, bound once and cached."""
        key = (id(family), *labels)
        c = self._children.get(key)
        if c is None:
            if len(self._children) > 20000:  # a bug would have to leak label values; stay bounded
                self._children.clear()
            c = self._children[key] = family.labels(*labels)
        return c

    def request(self, client_version: str, endpoint: str, mode: str, status: int, seconds: float) -> None:
        self.child(self.requests, client_version, endpoint, mode, str(status)).inc()
        self.child(self.duration, mode).observe(seconds)

    def rules_applied(self, rules: list[str], side: str) -> None:
        """Tally rule applications; :meth:`flush` adds them to the counter (module docstring)."""
        tally = self._rule_tally
        for rule in rules:
            key = (rule, side)
            tally[key] = tally.get(key, 0) + 1

    def flush(self) -> None:
        """Add the tallied rule applications to ``layer_proxy_rules_applied``."""
        tally, self._rule_tally = self._rule_tally, {}
        for (rule, side), n in tally.items():
            self.child(self.rules, rule, side).inc(n)

    def prerequisite_totals(self, created: int, existing: int) -> None:
        """Export the prerequisite cache's running totals (they only grow) as counter increments."""
        seen_created, seen_existing = self._prereq_seen
        if created > seen_created:
            self.child(self.prerequisites, "created").inc(created - seen_created)
        if existing > seen_existing:
            self.child(self.prerequisites, "existing").inc(existing - seen_existing)
        self._prereq_seen = (created, existing)

    # -- process metrics (multiprocess mode) ----------------------------------------------------

    def update_process_metrics(self) -> None:
        """Copy this worker's process figures into its ``pid``-labelled gauges (multiprocess)."""
        if not self._process:
            return
        from prometheus_client import ProcessCollector

        for family in ProcessCollector(registry=None).collect():
            for sample in family.samples:
                g = self._process.get(sample.name.removesuffix("_total"))
                if g is not None:
                    g.set(sample.value)

    def close(self) -> None:
        """Forget this worker's live gauges (multiprocess); counters stay, as Prometheus expects."""
        self.flush()
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())

    # -- exposition -----------------------------------------------------------------------------

    def render(self) -> bytes:
        """The text exposition: this process, or every worker aggregated (multiprocess)."""
        self.flush()
        if self.multiprocess:
            from prometheus_client import multiprocess

            self.update_process_metrics()
            reg = CollectorRegistry()
            multiprocess.MultiProcessCollector(reg)
            return generate_latest(reg)
        return generate_latest(self.registry)


def fresh_multiprocess_dir(existing: str | None = None) -> str:
    """A clean directory for ``--workers`` metrics: ``existing`` emptied of old ``*.db`` files
    (samples of a previous run must not be summed into this one), or a new temporary one."""
    if existing:
        os.makedirs(existing, exist_ok=True)
        for name in os.listdir(existing):
            if name.endswith(".db"):
                os.unlink(os.path.join(existing, name))
        return existing
    import tempfile

    return tempfile.mkdtemp(prefix=f"layer-migrate-metrics-{int(time.time())}-")
