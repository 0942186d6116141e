"""Issue 13: the emulator has no import cycle (lazy and TYPE_CHECKING imports counted) and imports
only ``layer_migrate.versions``, ``errors`` and ``routes`` from the rest of the package — it is an
independent oracle, so it never imports the engine or the rules."""

from __future__ import annotations

import ast
from pathlib import Path

import layer_migrate.emulator as pkg

ALLOWED_OUTSIDE = {"versions", "errors", "routes"}
ROOT = Path(pkg.__file__).parent


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    inside: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for f in ROOT.glob("*.py"):
        mod = f.stem
        inside[mod], outside[mod] = set(), set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):  # every import, nested too
            if isinstance(node, ast.ImportFrom):
                names = [node.module] if node.module else [a.name for a in node.names]
                if node.level == 1:
                    inside[mod].update(n.split(".")[0] for n in names)
                elif node.level >= 2:
                    outside[mod].update(n.split(".")[0] for n in names)
                elif (node.module or "").startswith("layer_migrate."):
                    parts = node.module.split(".")
                    (inside[mod] if parts[1] == "emulator" else outside[mod]).add(
                        parts[2] if parts[1] == "emulator" and len(parts) > 2 else parts[1])
            elif isinstance(node, ast.Import):
                for a in node.names:
                    parts = a.name.split(".")
                    if parts[0] == "layer_migrate" and len(parts) > 1:
                        (inside[mod] if parts[1] == "emulator" else outside[mod]).add(
                            parts[2] if parts[1] == "emulator" and len(parts) > 2 else parts[1])
    return inside, outside


def test_emulator_imports_only_versions_errors_routes() -> None:
    _, outside = _graph()
    bad = {m: sorted(d - ALLOWED_OUTSIDE) for m, d in outside.items() if d - ALLOWED_OUTSIDE}
    assert not bad


def test_emulator_has_no_import_cycle() -> None:
    inside, _ = _graph()
    assert len(inside) > 15  # the walk really found the modules
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        for dep in sorted(inside.get(node, ())):
            assert dep not in path, f"import cycle: {' -> '.join(path + [dep])}"
            if dep not in done:
                visit(dep, path + [dep])
        done.add(node)

    for mod in sorted(inside):
        visit(mod, [mod])


def test_handlers_do_not_reach_into_the_app() -> None:
    for f in ROOT.glob("*.py"):
        if f.stem in ("app", "server", "cli", "testing", "__init__"):
            continue
        text = f.read_text(encoding="utf-8")
        assert "ctx.app" not in text and "from .app" not in text, f.name
