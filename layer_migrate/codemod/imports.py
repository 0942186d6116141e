"""Adding the imports generated code needs, where isort (and ruff's ``I001``) would put them.

Own placement on libcst's public node API instead of :class:`libcst.codemod.visitors.AddImportsVisitor`:
the visitor walks and rebuilds the whole tree (≈10 ms a file, most of the codemod's time on Layer
files) and appends after the last import regardless of sections (a stdlib ``from urllib.parse
import quote`` landed below ``import requests``). The rules here are isort's defaults, which ruff
shares: sections ``__future__`` → standard library → everything else, each separated by one blank
line; inside a section ``import x`` lines before ``from x import y`` lines, each group sorted by
module name; names inside one ``from`` import sorted. An existing ``from urllib.parse import …``
gains the name instead of a second line.

A file that keeps Python 2 fallbacks (``try: from urlparse import … except ImportError: …``)
gets the same shape: ``try: from urllib.parse import quote`` / ``except ImportError: from urllib
import quote`` — never a Python-3-only import in code that still runs on 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import libcst as cst

#: Python 2 homes of the names the codemod imports
_PY2 = {("urllib.parse", "quote"): "urllib", ("urllib.parse", "unquote"): "urllib"}
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"urllib"}


def _module_name(node: cst.BaseExpression | None) -> str:
    return cst.helpers.get_full_name_for_node(node) or "" if node is not None else ""


def _only_import(stmt: cst.CSTNode) -> cst.Import | cst.ImportFrom | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
            and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom)):
        return stmt.body[0]
    return None


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def is_py2_fallback(stmt: cst.CSTNode) -> bool:
    """``try: <imports> except ImportError: <imports>`` at module level."""
    if not isinstance(stmt, cst.Try) or not isinstance(stmt.body, cst.IndentedBlock) or not stmt.handlers:
        return False
    if not stmt.body.body or not all(_only_import(s) for s in stmt.body.body):
        return False
    for h in stmt.handlers:
        if h.type is None or _module_name(h.type) not in ("ImportError", "ModuleNotFoundError"):
            return False
    return True


def _imported(stmts: Sequence[cst.CSTNode], mod: str, obj: str | None) -> bool:
    for stmt in stmts:
        if isinstance(stmt, cst.Try) and isinstance(stmt.body, cst.IndentedBlock):
            if _imported(stmt.body.body, mod, obj):
                return True
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if obj is None and isinstance(small, cst.Import):
                if any(a.asname is None and _module_name(a.name) == mod for a in small.names):
                    return True
            elif obj is not None and isinstance(small, cst.ImportFrom) and not small.relative \
                    and not isinstance(small.names, cst.ImportStar) and _module_name(small.module) == mod:
                if any(a.asname is None and _module_name(a.name) == obj for a in small.names):
                    return True
    return False


def _section(node: cst.Import | cst.ImportFrom) -> int:
    """0 ``__future__``, 1 standard library, 2 anything else (third-party, first-party, relative)."""
    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return 2
        name = _module_name(node.module)
    else:
        name = _module_name(node.names[0].name)
    if name == "__future__":
        return 0
    return 1 if name.split(".")[0] in _STDLIB else 2


def _sort_key(node: cst.Import | cst.ImportFrom) -> tuple[int, str]:
    if isinstance(node, cst.ImportFrom):
        return 1, _module_name(node.module).lower()
    return 0, _module_name(node.names[0].name).lower()


def _names(names: list[str]) -> list[cst.ImportAlias]:
    return [cst.ImportAlias(cst.Name(n), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                            if i < len(names) - 1 else cst.MaybeSentinel.DEFAULT) for i, n in enumerate(names)]


def _line(mod: str, objs: list[str | None]) -> cst.SimpleStatementLine:
    if objs == [None]:
        return cst.SimpleStatementLine([cst.Import(names=[cst.ImportAlias(cst.parse_expression(mod))])])  # type: ignore[arg-type]
    return cst.SimpleStatementLine([cst.ImportFrom(module=cst.parse_expression(mod),  # type: ignore[arg-type]
                                                   names=_names(sorted(o for o in objs if o)))])


def _merge(stmt: cst.SimpleStatementLine, node: cst.ImportFrom, objs: list[str]) -> cst.SimpleStatementLine:
    """``from m import a`` + ``b`` → ``from m import a, b`` (kept sorted if it was)."""
    assert not isinstance(node.names, cst.ImportStar)
    existing = [a for a in node.names]
    plain = [_module_name(a.name) for a in existing]
    if any(a.asname is not None for a in existing) or node.lpar:
        names = list(existing)
        for o in objs:
            names.append(cst.ImportAlias(cst.Name(o)))
        fixed = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                 if i < len(names) - 1 else a.with_changes(comma=cst.MaybeSentinel.DEFAULT)
                 for i, a in enumerate(names)]
        return stmt.with_changes(body=[node.with_changes(names=fixed)])
    merged = plain + objs
    if plain == sorted(plain):
        merged = sorted(merged)
    return stmt.with_changes(body=[node.with_changes(names=_names(merged))])


def add_imports(module: cst.Module, needed: Sequence[tuple[str, str | None]]) -> cst.Module:
    """``module`` with ``needed`` (``(module, name)``; name None: ``import module``) imported."""
    body = list(module.body)
    todo: dict[str, list[str | None]] = {}
    for mod, obj in needed:
        if not _imported(body, mod, obj):
            todo.setdefault(mod, []).append(obj)
    if not todo:
        return module
    # the leading block: docstring, imports, import fallbacks (comments ride on leading_lines)
    end = 0
    start = 1 if body and _is_docstring(body[0]) else 0
    py2 = -1
    for i in range(start, len(body)):
        stmt = body[i]
        if _only_import(stmt) is not None:
            end = i + 1
        elif is_py2_fallback(stmt):
            end = i + 1
            py2 = i
        else:
            break
    end = max(end, start)
    for mod, objs in todo.items():
        if py2 >= 0 and all((mod, o) in _PY2 for o in objs):
            names = sorted(o for o in objs if o)
            text = (f"try:\n    from {mod} import {', '.join(names)}\n"
                    f"except ImportError:  # Python 2\n    from {_PY2[(mod, names[0])]} import {', '.join(names)}\n")
            block = cst.parse_module(text.replace("\n", module.default_newline)).body[0]
            body.insert(py2 + 1, block)
            end += 1
            continue
        # merge into an existing `from mod import …`
        merged = False
        for i in range(start, end):
            node = _only_import(body[i])
            if isinstance(node, cst.ImportFrom) and not node.relative and _module_name(node.module) == mod \
                    and not isinstance(node.names, cst.ImportStar) and None not in objs:
                body[i] = _merge(body[i], node, [o for o in objs if o])  # type: ignore[arg-type]
                merged = True
                break
        if merged:
            continue
        new = _line(mod, objs)
        new_node = _only_import(new)
        assert new_node is not None
        sec, key = _section(new_node), _sort_key(new_node)
        at = None
        for i in range(start, end):
            node = _only_import(body[i])
            if node is None:
                continue
            s = _section(node)
            if s > sec or (s == sec and _sort_key(node) > key):
                at = i
                break
        if at is None:  # after the last import of its section or before it
            last_same = max((i for i in range(start, end) if (n := _only_import(body[i])) is not None
                             and _section(n) <= sec), default=None)
            at = last_same + 1 if last_same is not None else (end if end > start else start)
        nxt = body[at] if at < len(body) else None
        nxt_node = _only_import(nxt) if nxt is not None else None
        prev_node = _only_import(body[at - 1]) if at - 1 >= start else None
        if nxt_node is not None and _section(nxt_node) == sec:
            # take over the next line's leading lines (a section comment stays above the section)
            new = new.with_changes(leading_lines=nxt.leading_lines)  # type: ignore[union-attr]
            body[at] = nxt.with_changes(leading_lines=[])  # type: ignore[union-attr]
        elif nxt_node is not None and _section(nxt_node) > sec and not nxt.leading_lines:  # type: ignore[union-attr]
            body[at] = nxt.with_changes(leading_lines=[cst.EmptyLine()])  # type: ignore[union-attr]
        if prev_node is not None and _section(prev_node) < sec:
            new = new.with_changes(leading_lines=[cst.EmptyLine()])
        body.insert(at, new)
        end += 1
    return module.with_changes(body=body)
