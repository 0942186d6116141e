"""Parse ``platform-api-changelog.txt`` (a verbatim copy of the shared seed) into its items:
(section, text), where a section is a date (``2015-09-16``) or a release (``Release v2.0``) and an
item is a top-level bullet, or the release paragraph when a release has no bullets."""

from __future__ import annotations

import re
from pathlib import Path

CHANGELOG = Path(__file__).with_name("platform-api-changelog.txt")
MONTHS = ("January February March April May June July August September October November December").split()
_DATE = re.compile(r"^(" + "|".join(MONTHS) + r") (\d{1,2}), (\d{4})$")
_RELEASE = re.compile(r"^Release v(\d\.\d)$")


def items(text: str | None = None) -> list[tuple[str, str]]:
    text = CHANGELOG.read_text(encoding="utf-8") if text is None else text
    sections: list[dict[str, object]] = []
    cur: dict[str, object] | None = None
    for line in text.splitlines():
        s = line.strip()
        d, r = _DATE.match(s), _RELEASE.match(s)
        if d:
            label = f"{d.group(3)}-{MONTHS.index(d.group(1)) + 1:02d}-{int(d.group(2)):02d}"
            cur = {"label": label, "items": [], "para": None}
            sections.append(cur)
        elif r:
            cur = {"label": f"Release v{r.group(1)}", "items": [], "para": None}
            sections.append(cur)
        elif cur is not None and line.startswith("  • "):
            cur["items"].append(s[2:].strip())  # type: ignore[union-attr]
        elif cur is not None and s and cur["para"] is None and not line.startswith(" ") and s != "Bug Fixes":
            cur["para"] = s
    out: list[tuple[str, str]] = []
    for sec in sections:
        bullets = sec["items"] or [sec["para"]]
        out.extend((str(sec["label"]), str(b)) for b in bullets)  # type: ignore[union-attr]
    return out
