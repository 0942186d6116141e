"""The ``proxy report`` summary of access, report-only and JSON process logs.

The records are written by :mod:`.observe` through :mod:`.logs` (one JSON object per line).
Nothing secret is in them: no headers except ``user-agent``, no bodies, paths without their
query string, endpoints by name.

Report-only mode (``--report-only``) records, for every request a legacy client makes, which
rules it would need at the planned target version — so a team can find its v1 callers before
the cut-over. ``layer-migrate proxy report LOG`` summarises such a log.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import orjson


def _when(rec: dict[str, Any]) -> str | None:
    t = rec.get("time")
    if isinstance(t, str):
        return t
    ts = rec.get("ts")
    if isinstance(ts, (int, float)):
        return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return None


def summarise(paths: list[str | Path]) -> dict[str, Any]:
    """Aggregate report/access records: rules, endpoints, client versions, callers, differences.

    Reads report logs, access logs and the proxy's JSON process log alike: lines that are JSON
    objects without a proxy ``kind`` (uvicorn's start-up lines, warnings) are passed over; lines
    that are not JSON objects are skipped and counted (``skipped``, first few with ``file:line``).
    Raises ValueError only for a file that cannot be read.
    """
    rules: Counter[str] = Counter()
    response_rules: Counter[str] = Counter()
    endpoints: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    callers: dict[tuple[str, str, str], dict[str, Any]] = {}
    lossy: Counter[str] = Counter()
    verified: Counter[str] = Counter()
    diffs: dict[tuple[str, str], dict[str, Any]] = {}
    skipped: list[str] = []
    n_skipped = 0
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
            except orjson.JSONDecodeError:
                rec = None
            if not isinstance(rec, dict):
                n_skipped += 1
                if len(skipped) < 5:
                    skipped.append(f"{p}:{n}: not a JSON log record")
                continue
            kind = rec.get("kind", "request" if "path" in rec and "status" in rec else None)
            if kind == "verify":
                verified[str(rec.get("outcome"))] += 1
                if rec.get("outcome") == "different":
                    for rule in rec.get("rules") or ["unattributed"]:
                        d = diffs.setdefault((str(rec.get("endpoint")), str(rule)), {
                            "endpoint": rec.get("endpoint"), "rule": rule, "count": 0,
                            "example": rec.get("example"), "path": rec.get("path")})
                        d["count"] += 1
                continue
            if kind != "request":
                continue
            if "path" not in rec:
                n_skipped += 1
                if len(skipped) < 5:
                    skipped.append(f"{p}:{n}: request record without a path")
                continue
            total += 1
            v = str(rec.get("client_version") or "?")
            versions[v] += 1
            applied = rec.get("rules") or []
            answer_rules = rec.get("response_rules") or []
            endpoint = rec.get("endpoint") or "other"
            if applied or answer_rules:
                legacy += 1
                key = (str(rec.get("user_agent") or "?"), str(rec.get("client") or "?"), endpoint)
                c = callers.get(key)
                when = _when(rec)
                if c is None:
                    c = callers[key] = {"user_agent": key[0], "client": key[1], "endpoint": endpoint,
                                        "client_version": v, "requests": 0, "first_seen": when,
                                        "last_seen": when}
                c["requests"] += 1
                if when is not None:
                    if c["first_seen"] is None or when < c["first_seen"]:
                        c["first_seen"] = when
                    if c["last_seen"] is None or when > c["last_seen"]:
                        c["last_seen"] = when
            for r in applied:
                rules[r] += 1
            for r in answer_rules:
                response_rules[r] += 1
            for note in rec.get("lossy") or []:
                lossy[note] += 1
            endpoints[f"{rec.get('method', '?')} {endpoint}"] += 1
    return {
        "requests": total,
        "needing_translation": legacy,
        "client_versions": dict(versions.most_common()),
        "rules": dict(rules.most_common()),
        "response_rules": dict(response_rules.most_common()),
        "endpoints": dict(endpoints.most_common()),
        "callers": sorted(callers.values(), key=lambda c: (c["user_agent"], c["client"], c["endpoint"])),
        "lossy": dict(lossy.most_common()),
        "verified": dict(verified.most_common()),
        "differences": sorted(diffs.values(), key=lambda d: (-d["count"], d["endpoint"], d["rule"])),
        "skipped": {"lines": n_skipped, "first": skipped},
    }


def render_summary(summary: dict[str, Any], out: TextIO) -> None:
    """Human-readable summary of :func:`summarise`."""
    w = out.write
    w(f"requests: {summary['requests']}  needing translation: {summary['needing_translation']}\n")
    w("client versions: " + ", ".join(f"{k}={v}" for k, v in summary["client_versions"].items()) + "\n")
    for title, key in (("rules (request side, applied or needed)", "rules"),
                       ("rules (response side, applied or needed at the target version)", "response_rules"),
                       ("endpoints", "endpoints"), ("lossy notes", "lossy")):
        if summary[key]:
            w(f"\n{title}:\n")
            for k, v in summary[key].items():
                w(f"  {v:8d}  {k}\n")
    if summary["callers"]:
        w("\nlegacy callers (user agent, client address, endpoint):\n")
        w(f"  {'requests':>8}  {'first seen':20}  {'last seen':20}  caller\n")
        for c in summary["callers"]:
            w(f"  {c['requests']:8d}  {c['first_seen'] or '?':20}  {c['last_seen'] or '?':20}  "
              f"{c['user_agent']}  {c['client']}  {c['endpoint']} (v{c['client_version']})\n")
    if summary["verified"]:
        w("\nverified reads: " + ", ".join(f"{k}={v}" for k, v in summary["verified"].items()) + "\n")
    if summary["differences"]:
        w("\ntranslation differences (native v1 read vs. downgraded answer):\n")
        for d in summary["differences"]:
            w(f"  {d['count']:8d}  {d['endpoint']}  {d['rule']}\n")
            example = orjson.dumps(d.get("example") or []).decode()
            w(f"            e.g. {example[:300]}\n")
    skipped = summary["skipped"]
    if skipped["lines"]:
        w(f"\nskipped {skipped['lines']} unreadable line(s): " + "; ".join(skipped["first"]) + "\n")
