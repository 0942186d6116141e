"""Prometheus metrics for the proxy, rendered in the text exposition format (no dependency).

Counters are per worker process (each ``--workers`` process answers ``/-/metrics`` for itself and
labels its samples with ``worker="<pid>"``); Prometheus sums them across scrapes. Labels are
endpoint *names* and rule ids, never paths, so cardinality stays bounded.
"""

from __future__ import annotations

import os
from collections import defaultdict

#: Upstream latency histogram buckets (seconds).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}"


def _escape(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """The proxy's counters and the upstream latency histogram."""

    HELP = {
        "layer_proxy_requests_total": ("counter", "Client requests answered, by endpoint, status and mode."),
        "layer_proxy_rules_applied_total": ("counter", "Rule applications (rule id) on requests."),
        "layer_proxy_translation_errors_total": ("counter", "Requests refused or failed in translation, by stage."),
        "layer_proxy_upstream_errors_total": ("counter", "Upstream failures by kind (connect, timeout, reset)."),
        "layer_proxy_upstream_retries_total": ("counter", "Extra upstream attempts made for safe-to-repeat requests."),
        "layer_proxy_prerequisites_total": ("counter", "Prerequisites fulfilled upstream (created or existing)."),
        "layer_proxy_webhooks_total": ("counter", "Webhook deliveries by outcome (relayed, dropped, bad_signature, failed)."),
        "layer_proxy_inflight_requests": ("gauge", "Requests being processed now."),
    }

    def __init__(self) -> None:
        self.counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(lambda: defaultdict(float))
        self.inflight = 0
        self.latency_buckets = [0] * len(BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.worker = str(os.getpid())

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self.counters[name][tuple(sorted(labels.items()))] += value

    def observe_upstream(self, seconds: float) -> None:
        self.latency_sum += seconds
        self.latency_count += 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.latency_buckets[i] += 1
                break

    def value(self, name: str, **labels: str) -> float:
        return self.counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        w = (("worker", self.worker),)
        out: list[str] = []
        for name, (kind, help_) in self.HELP.items():
            out.append(f"# HELP {name} {help_}")
            out.append(f"# TYPE {name} {kind}")
            if name == "layer_proxy_inflight_requests":
                out.append(f"{name}{_labels(w)} {self.inflight}")
                continue
            for labels, v in sorted(self.counters.get(name, {}).items()):
                out.append(f"{name}{_labels(labels + w)} {v:g}")
        name = "layer_proxy_upstream_latency_seconds"
        out.append(f"# HELP {name} Time spent waiting for the upstream per client request.")
        out.append(f"# TYPE {name} histogram")
        running = 0
        for bound, n in zip(BUCKETS, self.latency_buckets, strict=False):
            running += n
            out.append(f'{name}_bucket{_labels((("le", f"{bound:g}"),) + w)} {running}')
        out.append(f'{name}_bucket{_labels((("le", "+Inf"),) + w)} {self.latency_count}')
        out.append(f"{name}_sum{_labels(w)} {self.latency_sum:.6f}")
        out.append(f"{name}_count{_labels(w)} {self.latency_count}")
        return "\n".join(out) + "\n"
