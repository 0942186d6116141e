"""Terminal views of the rulebook: the list (``layer-migrate rules``) and one rule with its
examples (``layer-migrate rules R22``).

Every codemod marker and every translation error cites an R-number or a rule id, so the one
command a user types next must show that rule in plain words: docstrings are written in reST for
the generated guide, and are turned into plain text here (``literal`` → `literal`, roles dropped),
wrapped at word boundaries to the terminal width. Works on :func:`rulebook.render_json` records,
the rulebook's public, stable description of each rule.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Sequence
from typing import Any

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_SPEC_PREFIX = re.compile(r"^R\d+(?:/R\d+)*\s+—\s+")


def plain(text: str) -> str:
    """reST inline markup → plain text: ``x`` → `x`; :class:`~a.b.C` → `C`."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    return _LITERAL.sub(r"`\1`", text)


def summary_of(record: dict[str, Any]) -> str:
    """The docstring's first line without the R-number it repeats."""
    first = record["doc"].strip().splitlines()[0] if record.get("doc") else ""
    return plain(_SPEC_PREFIX.sub("", first))


def render_list(records: Sequence[dict[str, Any]], width: int = 80) -> str:
    """One entry per rule: ``spec  id  step`` then the summary wrapped under it."""
    lines: list[str] = []
    for rec in records:
        lines.append(f"{rec['spec']:<8} {rec['id']}  ({rec['step']}, {rec['direction']})")
        lines += textwrap.wrap(summary_of(rec), width=width, initial_indent="         ",
                               subsequent_indent="         ", break_long_words=False,
                               break_on_hyphens=False)
    lines.append("")
    lines.append("One rule with its examples: layer-migrate rules R22  (or a rule id)")
    return "\n".join(lines) + "\n"


def find(records: Sequence[dict[str, Any]], wanted: str) -> list[dict[str, Any]]:
    """Rules matching an R-number (``R22``, ``r22``, ``22``) or a rule id."""
    key = wanted.strip()
    by_id = [r for r in records if r["id"] == key]
    if by_id:
        return by_id
    number = key.upper().removeprefix("R")
    if number.isdigit():
        target = f"R{int(number):02d}"
        return [r for r in records if target in r["spec"].split("/")]
    return []


def suggestions(records: Sequence[dict[str, Any]], wanted: str) -> list[str]:
    names = [r["id"] for r in records] + sorted({s for r in records for s in r["spec"].split("/")})
    return difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)


def _wrap_paragraphs(text: str, width: int, indent: str = "") -> list[str]:
    out: list[str] = []
    for para in re.split(r"\n\s*\n", plain(text).strip()):
        joined = " ".join(line.strip() for line in para.splitlines())
        out += textwrap.wrap(joined, width=width, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False) or [""]
        out.append("")
    return out


def _json_lines(value: Any, width: int, indent: str) -> list[str]:
    compact = json.dumps(value, ensure_ascii=False)
    if len(compact) + len(indent) <= width:
        return [indent + compact]
    return [indent + line for line in json.dumps(value, ensure_ascii=False, indent=2).splitlines()]


def render_one(record: dict[str, Any], width: int = 80) -> str:
    """A rule as a user reads it after a marker or an error: what, why, where, and examples."""
    lines = [f"{record['spec']} — {record['id']}", "=" * min(width, len(record['spec']) + 3 + len(record['id'])), ""]
    lines += _wrap_paragraphs(record.get("doc") or "", width)
    endpoints = ", ".join(record.get("endpoints") or []) or "webhook deliveries / stored objects"
    lines += textwrap.wrap(f"step {record['step']}; direction {record['direction']}; endpoints: {endpoints}",
                           width=width, break_on_hyphens=False)
    if record.get("lossy"):
        lines += textwrap.wrap(f"lossy: {record['lossy']}", width=width)
    for number, ex in enumerate(record.get("examples") or [], 1):
        where = " ".join(str(ex[k]) for k in ("method", "path") if ex.get(k)) or ex.get("endpoint", "")
        lines += ["", f"Example {number}: {ex.get('kind', '')} {where}".rstrip()]
        if ex.get("options"):
            lines.append(f"  options: {json.dumps(ex['options'], ensure_ascii=False)}")
        lines.append("  before:")
        lines += _json_lines(ex.get("before"), width, "    ")
        lines.append("  after:")
        lines += _json_lines(ex.get("after"), width, "    ")
        if ex.get("note"):
            lines += textwrap.wrap(f"note: {ex['note']}", width=width, initial_indent="  ",
                                   subsequent_indent="  ")
    return "\n".join(lines).rstrip() + "\n"
