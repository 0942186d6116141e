"""JSON-lines logs (access log, report-only log) and the ``proxy report`` summary.

Both logs are written by the event loop into a buffer flushed about once a second (and at
shutdown), so logging does not put a syscall on every request. Nothing secret is written: no
headers except ``user-agent``, no bodies, paths without their query string.

Report-only mode (``--report-only``) records, for every request a legacy client makes, which
rules it would need at the planned target version — so a team can find its v1 callers before
the cut-over. ``layer-migrate proxy report LOG`` summarises such a log.
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, TextIO

import orjson


class JsonLines:
    """A buffered JSON-lines sink: ``"-"`` = stderr, else a file opened for appending.

    Records are kept in memory and written with one ``write(2)`` of whole lines per flush on an
    ``O_APPEND`` descriptor, so several ``--workers`` processes can share one log file without
    interleaving partial lines.
    """

    FLUSH_AT = 1 << 16

    def __init__(self, target: str) -> None:
        self.target = target
        if target == "-":
            self._fd = os.dup(sys.stderr.fileno())
        else:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._buf: list[bytes] = []
        self._size = 0

    def write(self, record: dict[str, Any]) -> None:
        line = orjson.dumps(record) + b"\n"
        self._buf.append(line)
        self._size += len(line)
        if self._size >= self.FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        data = memoryview(b"".join(self._buf))
        self._buf.clear()
        self._size = 0
        try:
            while data:
                n = os.write(self._fd, data)
                data = data[n:]
        except OSError:
            pass  # a full disk must not take the proxy down; the records are lost, not the requests

    def close(self) -> None:
        self.flush()
        try:
            os.close(self._fd)
        except OSError:
            pass


def summarise(paths: list[str | Path]) -> dict[str, Any]:
    """Aggregate report/access log records: rules, endpoints, client versions, callers.

    Raises ValueError ``file:line: reason`` on a malformed line.
    """
    rules: Counter[str] = Counter()
    endpoints: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    callers: dict[str, Counter[str]] = defaultdict(Counter)
    lossy: Counter[str] = Counter()
    total = legacy = 0
    for path in paths:
        p = Path(path)
        try:
            lines = p.read_bytes().splitlines()
        except OSError as exc:
            raise ValueError(f"{p}: cannot read log: {exc.strerror or exc}") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{p}:{n}: not a JSON log line: {exc}") from None
            if not isinstance(rec, dict) or "path" not in rec:
                raise ValueError(f"{p}:{n}: not a proxy log record")
            if rec.get("kind", "request") != "request":
                continue
            total += 1
            v = str(rec.get("client_version") or "?")
            versions[v] += 1
            applied = rec.get("rules") or []
            if applied:
                legacy += 1
                caller = rec.get("user_agent") or rec.get("client") or "?"
                callers[caller][rec.get("endpoint") or "?"] += 1
            for r in applied:
                rules[r] += 1
            for note in rec.get("lossy") or []:
                lossy[note] += 1
            endpoints[f"{rec.get('method', '?')} {rec.get('endpoint') or rec['path']}"] += 1
    return {
        "requests": total,
        "needing_translation": legacy,
        "client_versions": dict(versions.most_common()),
        "rules": dict(rules.most_common()),
        "endpoints": dict(endpoints.most_common()),
        "callers": {c: dict(e.most_common()) for c, e in sorted(callers.items())},
        "lossy": dict(lossy.most_common()),
    }


def render_summary(summary: dict[str, Any], out: TextIO) -> None:
    """Human-readable summary of :func:`summarise`."""
    w = out.write
    w(f"requests: {summary['requests']}  needing translation: {summary['needing_translation']}\n")
    w("client versions: " + ", ".join(f"{k}={v}" for k, v in summary["client_versions"].items()) + "\n")
    for title, key in (("rules", "rules"), ("endpoints", "endpoints"), ("lossy notes", "lossy")):
        if summary[key]:
            w(f"\n{title}:\n")
            for k, v in summary[key].items():
                w(f"  {v:8d}  {k}\n")
    if summary["callers"]:
        w("\nlegacy callers (user agent → endpoints):\n")
        for caller, eps in summary["callers"].items():
            w(f"  {caller}\n")
            for ep, v in eps.items():
                w(f"    {v:8d}  {ep}\n")
