"""Summaries of a codemod run: the per-rule table on the terminal and ``--report FILE``.

Every marker is listed with ``file:line`` so a team can work through what the codemod could not
decide (the bump-pydantic idea of "a log of what it could not do").
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .runner import FileResult


@dataclass
class Summary:
    target: str
    files_seen: int = 0
    files_changed: int = 0
    files_filtered: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: (path, line, reason) of skipped files that talk to the Platform API
    layer_skipped: list[tuple[str, int, str]] = field(default_factory=list)
    skipped_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: rule → [files, rewritten, marked]
    per_rule: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    markers: list[tuple[str, int, str]] = field(default_factory=list)
    bots_used: dict[str, str] = field(default_factory=dict)
    changed_files: list[str] = field(default_factory=list)

    def add(self, r: FileResult) -> None:
        self.files_seen += 1
        if r.filtered:
            self.files_filtered += 1
        if r.error:
            self.errors.append(r.error)
        if r.skipped:
            self.skipped.append((r.path, r.skipped))
            self.skipped_lines[(r.path, r.skipped)] = r.skipped_line
            if r.layer_skipped:
                self.layer_skipped.append((r.path, r.skipped_line, r.skipped))
        if r.changed:
            self.files_changed += 1
            self.changed_files.append(r.path)
        rules_here: set[str] = set()
        for rule, kind in r.events:
            row = self.per_rule[rule]
            row[1 if kind == "rewritten" else 2] += 1
            rules_here.add(rule)
        for rule in rules_here:
            self.per_rule[rule][0] += 1
        for line, text in r.markers:
            self.markers.append((r.path, line, text))
        self.bots_used.update(r.bots_used)

    @property
    def incomplete(self) -> bool:
        """A file that talks to the Platform API was skipped: the rest must not be trusted alone."""
        return bool(self.layer_skipped)

    def needs_you(self) -> list[tuple[str, int, str]]:
        """Every site to handle by hand: markers (rule + one-line fix) and skipped Layer files."""
        out = [(f, ln, t.removeprefix("# layer-migrate:").strip()) for f, ln, t in self.markers]
        out += [(f, ln, f"file skipped ({why}): migrate it by hand or make it parse, then run again")
                for f, ln, why in self.layer_skipped]
        return sorted(out)

    def closing_line(self) -> str:
        n = len(self.needs_you())
        text = f"{n} site{'s' if n != 1 else ''} need{'s' if n == 1 else ''} you before this code can run " \
               f"against {self.target}"
        return ("migration incomplete: " + text) if self.incomplete else text

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "files": {"seen": self.files_seen, "changed": self.files_changed,
                      "prefiltered": self.files_filtered, "skipped": len(self.skipped)},
            "rules": {rule: {"files": v[0], "rewritten": v[1], "marked": v[2]}
                      for rule, v in sorted(self.per_rule.items())},
            "markers": [{"file": f, "line": ln, "text": t} for f, ln, t in sorted(self.markers)],
            "skipped": [{"file": f, "reason": why} for f, why in self.skipped],
            "incomplete": self.incomplete,
            "needs_you": [{"file": f, "line": ln, "fix": t} for f, ln, t in self.needs_you()],
            "summary": self.closing_line(),
            "errors": self.errors,
            "bots": self.bots_used,
            "changed_files": sorted(self.changed_files),
        }

    def to_markdown(self) -> str:
        lines = [f"# layer-migrate codemod report (target {self.target})", "",
                 f"{self.files_seen} files seen, {self.files_changed} changed, "
                 f"{len(self.skipped)} skipped, {len(self.markers)} markers.", "",
                 "| rule | files | sites rewritten | sites marked |", "|---|---:|---:|---:|"]
        for rule, (f, w, m) in sorted(self.per_rule.items()):
            lines.append(f"| `{rule}` | {f} | {w} | {m} |")
        if self.needs_you():
            lines += ["", "## What needs you (file:line — rule: fix)", ""]
            for f, ln, t in self.needs_you():
                lines.append(f"- `{f}:{ln}` — {t}")
        if self.bots_used:
            lines += ["", "## Bot identities the rewritten code sends as", "",
                      "Create each once (`POST /apps/:app/users/<id>/identity` with "
                      "`{\"display_name\": <name>, \"identity_type\": \"bot\"}`) before deploying:", ""]
            for name, uid in sorted(self.bots_used.items()):
                lines.append(f"- {name!r} → `{uid}`")
        if self.skipped:
            lines += ["", "## Skipped files", ""]
            for f, why in self.skipped:
                lines.append(f"- `{f}`: {why}")
        lines += ["", self.closing_line() + "."]
        return "\n".join(lines) + "\n"

    def write(self, path: str) -> None:
        p = Path(path)
        text = self.to_markdown() if p.suffix.lower() in (".md", ".markdown") else \
            json.dumps(self.to_json(), indent=2) + "\n"
        p.write_text(text, encoding="utf-8")
