"""The docs tables are complete and true: every change-log item is listed with tests that exist,
and docs/emulator.md carries the date → behaviour table that timeline.py generates."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from layer_migrate.emulator.timeline import CHANGES, markdown_table

from .changelog_items import items

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "changelog-conformance.md"


def _rows() -> list[tuple[str, str, list[str]]]:
    out = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (re.match(r"\d{4}-\d\d-\d\d$", cells[0]) or cells[0].startswith("Release v")):
            out.append((cells[0], cells[1], re.findall(r"`(test_\w+)`", cells[2])))
    return out


def _defined_tests() -> set[str]:
    names: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    return names


def test_parser_finds_every_section() -> None:
    labels = {label for label, _ in items()}
    assert {"Release v3.0", "Release v2.0", "2017-09-28", "2015-06-04", "2015-09-16"} <= labels
    assert len(items()) == 43


def test_table_lists_every_changelog_item_with_existing_tests() -> None:
    rows = _rows()
    assert [(d, t) for d, t, _ in rows] == [(d, t.replace("|", "/")) for d, t in items()]
    defined = _defined_tests()
    for date, item, tests in rows:
        assert tests, f"{date} {item!r} names no test"
        missing = [t for t in tests if t not in defined]
        assert not missing, f"{date}: {missing} do not exist under tests/changelog"
        if date[0].isdigit():
            stem = "test_" + date.replace("-", "_")
            assert any(t.startswith(stem) for t in tests), f"{date}: no test named after the date"


def test_every_dated_change_has_a_test_named_after_its_date() -> None:
    defined = _defined_tests()
    for change in CHANGES:
        stem = "test_" + change.date.isoformat().replace("-", "_")
        assert any(t.startswith(stem) for t in defined), change.key


def test_emulator_docs_carry_the_generated_behaviour_table() -> None:
    assert markdown_table() in (ROOT / "docs" / "emulator.md").read_text(encoding="utf-8")
