"""The package's layering, read from the source (ast): every import counts, lazy ones inside
functions and ``TYPE_CHECKING`` blocks included, because each is a dependency someone must keep.

Layers, bottom up (docs/architecture.md has the picture):

* **leaf** — shared vocabulary at the package root (versions, exchange, identity, errors, routes,
  layer_patch, options, prerequisites, results, facts, webhook_events): only each other;
* **rulebook** — what rule authors write against: leaf;
* **rules** — the built-in rule modules: leaf + rulebook;
* **engine** — leaf + rulebook (it loads ``rules`` by name, never by import statement);
* **proxy** — leaf + rulebook + engine;
* **inprocess** — the in-process face (``layer_migrate.install()``): leaf + rulebook + engine + proxy;
* **codemod** — leaf + rulebook;
* **emulator** — an independent oracle: ``versions``, ``errors``, ``routes`` only;
* **app** — the command lines, the demo, ``__init__``/``__main__`` and anything new at the root:
  anything, and nothing below imports them.

Also: no import cycle, and no rule id as a string literal outside ``layer_migrate/rules/``
(docstrings aside: prose may cite an id).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "layer_migrate"

LEAF = frozenset({
    "versions", "exchange", "identity", "errors", "routes", "layer_patch", "options",
    "prerequisites", "results", "facts", "webhook_events",
})

ALLOWED: dict[str, frozenset[str]] = {
    "leaf": frozenset({"leaf"}),
    "schemas": frozenset({"leaf", "schemas"}),
    "rulebook": frozenset({"leaf", "rulebook"}),
    "rules": frozenset({"leaf", "rulebook", "rules"}),
    "engine": frozenset({"leaf", "rulebook", "engine"}),
    "proxy": frozenset({"leaf", "rulebook", "engine", "proxy", "schemas"}),
    "inprocess": frozenset({"leaf", "rulebook", "engine", "proxy", "inprocess"}),
    "codemod": frozenset({"leaf", "rulebook", "codemod"}),
    "emulator": frozenset({"emulator", "emulator-vocabulary"}),
}
#: The only root modules the emulator may use.
EMULATOR_VOCABULARY = frozenset({"versions", "errors", "routes"})


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))
            if "samples" not in p.relative_to(PKG).parts}


def layer(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) == 1:
        return "app"  # layer_migrate itself (__init__)
    top = parts[1]
    if top in LEAF and len(parts) == 2:
        return "leaf"
    if top in ALLOWED and top != "leaf":
        return top
    return "app"


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(mod: str) -> Iterator[tuple[str, int]]:
    """(imported layer_migrate module, line) for every import statement anywhere in ``mod``."""
    path = modules()[mod]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    known = modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("layer_migrate"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(mod, path.name == "__init__.py", node)
            if not target.startswith("layer_migrate"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in known else target), node.lineno


def edges() -> list[tuple[str, str, int]]:
    out = []
    for mod in modules():
        for target, line in imports_of(mod):
            if target != mod and not mod.startswith(target + "."):  # a package's own __init__
                out.append((mod, target, line))
    return out


def violations(importer_layer: str) -> list[str]:
    bad = []
    for mod, target, line in edges():
        if layer(mod) != importer_layer:
            continue
        tl = layer(target)
        if importer_layer == "emulator" and tl == "leaf" and target.split(".")[1] in EMULATOR_VOCABULARY:
            tl = "emulator-vocabulary"
        if tl not in ALLOWED[importer_layer]:
            bad.append(f"{modules()[mod].relative_to(PKG.parent)}:{line}: {mod} ({importer_layer}) "
                       f"imports {target} ({tl})")
    return bad


def test_the_layer_map_covers_real_modules():
    """A renamed leaf module must not silently fall out of the checks."""
    names = set(modules())
    for leaf in LEAF:
        assert f"layer_migrate.{leaf}" in names
    for pkg in ("rulebook", "rules", "engine", "proxy", "inprocess", "codemod", "emulator"):
        assert f"layer_migrate.{pkg}" in names
    assert len(edges()) > 100


def test_resolver_sees_lazy_and_type_checking_imports():
    """The walk finds imports inside functions and ``if TYPE_CHECKING:`` (not only top level)."""
    found = {t for t, _ in imports_of("layer_migrate.engine.examples")}
    assert "layer_migrate.engine.chain" in found  # under TYPE_CHECKING
    lazy = {t for t, _ in imports_of("layer_migrate.demo")}
    assert "layer_migrate.rulebook" in lazy  # inside a function


@pytest.mark.parametrize("importer", ["leaf", "schemas", "rulebook", "rules", "engine", "proxy",
                                      "inprocess"])
def test_layering(importer: str):
    assert violations(importer) == []


def test_codemod_uses_leaf_and_rulebook_only():
    assert violations("codemod") == []


def test_emulator_uses_versions_errors_routes_only():
    assert violations("emulator") == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def _graph(exclude: str | None = None) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for mod, target, _ in edges():
        if exclude and (mod.startswith(exclude) or target.startswith(exclude)):
            continue
        graph.setdefault(mod, set()).add(target)
    return graph


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_outside_the_emulator():
    assert _cycles(_graph(exclude="layer_migrate.emulator")) == []


def test_no_import_cycle_in_the_emulator():
    assert _cycles(_graph()) == []


# ---- rule ids live in rules/ -------------------------------------------------------------------
def _rule_ids() -> set[str]:
    ids = set()
    for path in (PKG / "rules").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Rule"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                ids.add(node.args[0].value)
    return ids


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    out.add(id(stmt.value))
    return out


def rule_id_literals(area: str | None = None) -> list[str]:
    ids = _rule_ids()
    found = []
    for mod, path in modules().items():
        if mod.startswith("layer_migrate.rules") or (area and not mod.startswith(area)):
            continue
        if area is None and mod.startswith("layer_migrate.codemod"):
            continue  # its own check below
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                text = node.value
                for rid in ids:
                    if text == rid or text.startswith(rid + ":") or text.startswith(rid + " "):
                        found.append(f"{path.relative_to(PKG.parent)}:{node.lineno}: {text!r}")
    return found


def test_rule_ids_are_known():
    ids = _rule_ids()
    assert len(ids) >= 50 and "wh.event_names" in ids


def test_no_rule_id_literal_outside_rules():
    assert rule_id_literals() == []


def test_no_rule_id_literal_in_the_codemod():
    assert rule_id_literals("layer_migrate.codemod") == []
