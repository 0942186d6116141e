"""Reader for the before/after fixture files in ``cases/`` (``*.case``).

Format: an optional first line ``# options: {json}``, the source before, then a line
``# --- after ---`` followed by the expected source, or ``# --- unchanged ---`` for negative
controls that must stay byte-identical. Options: ``target``, ``bots`` (name → user id),
``identity_helper``, ``enable``, ``disable``, ``line_length``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from layer_migrate.codemod import Options, build_index, rewrite_source
from layer_migrate.identity import BotDirectory

CASES = Path(__file__).parent / "cases"
AFTER = "# --- after ---\n"
UNCHANGED = "# --- unchanged ---\n"


@dataclass
class Case:
    name: str
    before: str
    after: str
    options: dict = field(default_factory=dict)


def load(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    options = {}
    first, _, rest = text.partition("\n")
    if first.startswith("# options:"):
        options = json.loads(first.split(":", 1)[1])
        text = rest
    if UNCHANGED in text:
        before = text.split(UNCHANGED)[0]
        return Case(path.stem, before, before, options)
    before, after = text.split(AFTER)
    return Case(path.stem, before, after, options)


def all_cases() -> list[Case]:
    return [load(p) for p in sorted(CASES.glob("*.case"))]


def options_for(opts: dict) -> Options:
    bots = BotDirectory(dict(opts["bots"])) if "bots" in opts else None
    index = build_index(opts.get("target", "3.0"), opts.get("disable", ()), opts.get("enable", ()))
    return Options(index=index, bots=bots, identity_helper=opts.get("identity_helper", "inline"),
                   line_length=opts.get("line_length"))


def rewrite(source: str, opts: dict) -> str:
    out = rewrite_source(source.encode("utf-8"), options_for(opts))
    assert out.skipped is None, out.skipped
    return out.code.decode("utf-8")
