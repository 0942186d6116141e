"""Keep generated code within the project's line length (issue 15 class 7, issue 16).

The limit is read the way the project's own tools read it, nearest config file first (walking up
from the file): ``pyproject.toml`` (``[tool.ruff] line-length``, ``[tool.black] line-length``),
``setup.cfg`` / ``tox.ini`` / ``.flake8`` (``[flake8] max-line-length``); without a value, 88 (ruff
and black), or 79 when the nearest config is a flake8 section without one (flake8's default).

A statement the codemod changed whose lines now exceed the limit (and did not before) is wrapped
the way black would: the outermost flat bracket pair on it — a call's arguments, a dict, a list —
is split one element per line with a hanging indent, then the next one inside if still needed.
Statements the codemod did not change are never reformatted.
"""

from __future__ import annotations

import configparser
import sys
from functools import lru_cache
from pathlib import Path

import libcst as cst
from libcst._nodes.internal import CodegenState

from .codegen import INDENT, Spans, statement_text
from .collect import _CHILD_ATTRS, _child_attrs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT = 88
FLAKE8_DEFAULT = 79


def _from_pyproject(path: Path) -> int | None | bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    tool = data.get("tool", {})
    for section in ("ruff", "black"):
        value = tool.get(section, {}).get("line-length") if isinstance(tool.get(section), dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return None if ("ruff" in tool or "black" in tool) else False


def _from_ini(path: Path) -> int | None | bool:
    cp = configparser.ConfigParser()
    try:
        cp.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return False
    if not cp.has_section("flake8"):
        return False
    for key in ("max-line-length", "max_line_length"):
        if cp.has_option("flake8", key):
            try:
                return int(cp.get("flake8", key))
            except ValueError:
                return False
    return FLAKE8_DEFAULT


@lru_cache(maxsize=1024)
def line_length_for(folder: Path) -> int:
    """The line length configured for files in ``folder`` (see module docstring)."""
    for d in (folder, *folder.parents):
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            found = _from_pyproject(pyproject)
            if isinstance(found, int) and not isinstance(found, bool):
                return found
            if found is None:
                return DEFAULT
        for name in ("setup.cfg", "tox.ini", ".flake8"):
            f = d / name
            if f.is_file():
                found = _from_ini(f)
                if isinstance(found, int) and not isinstance(found, bool):
                    return found
        if (d / ".git").exists():
            break
    return DEFAULT


def _pw(level: int, unit: str, newline: cst.Newline | None = None) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True,
                                       last_line=cst.SimpleWhitespace(unit * level))


def _flat(module: cst.Module, node: cst.CSTNode) -> bool:
    return "\n" not in module.code_for_node(node)


def _explode(node: cst.CSTNode, level: int, unit: str) -> cst.CSTNode | None:
    """``node`` split one element per line at ``level`` indents (None: nothing to split)."""
    if isinstance(node, cst.Call) and node.args:
        args = list(node.args)
        new_args = []
        for i, a in enumerate(args):
            if i < len(args) - 1:
                comma = a.comma if isinstance(a.comma, cst.Comma) else cst.Comma()
                a = a.with_changes(comma=comma.with_changes(whitespace_after=_pw(level, unit)))
            else:
                a = a.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=_pw(level - 1, unit))
            new_args.append(a)
        return node.with_changes(whitespace_before_args=_pw(level, unit), args=new_args)
    if isinstance(node, (cst.Dict, cst.List, cst.Set)) and node.elements:
        elements = []
        for i, el in enumerate(node.elements):
            comma = el.comma if isinstance(el.comma, cst.Comma) else cst.Comma()
            elements.append(el.with_changes(comma=comma.with_changes(whitespace_after=_pw(
                level if i < len(node.elements) - 1 else level - 1, unit))))
        if isinstance(node, cst.Dict):
            return node.with_changes(elements=elements, lbrace=node.lbrace.with_changes(
                whitespace_after=_pw(level, unit)), rbrace=node.rbrace.with_changes(
                whitespace_before=cst.SimpleWhitespace("")))
        if isinstance(node, cst.List):
            return node.with_changes(elements=elements, lbracket=node.lbracket.with_changes(
                whitespace_after=_pw(level, unit)), rbracket=node.rbracket.with_changes(
                whitespace_before=cst.SimpleWhitespace("")))
        return node.with_changes(elements=elements, lbrace=node.lbrace.with_changes(
            whitespace_after=_pw(level, unit)), rbrace=node.rbrace.with_changes(
            whitespace_before=cst.SimpleWhitespace("")))
    return None


_CONTAINERS = (cst.Call, cst.Dict, cst.List, cst.Set)
_CONTAINER_TYPES = frozenset(_CONTAINERS)


def _exploded(node: cst.CSTNode) -> bool:
    """Already one element per line (every separator ends its line)?"""
    items = node.args if isinstance(node, cst.Call) else node.elements  # type: ignore[attr-defined]
    if len(items) < 2:
        return False
    return all(isinstance(i.comma, cst.Comma) and isinstance(i.comma.whitespace_after, cst.ParenthesizedWhitespace)
               for i in items[:-1])


#: node types that hold no bracket pair (names, literals, whitespace, punctuation)
_NO_CONTAINERS: frozenset[type] = frozenset({
    cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis, cst.FormattedStringText,
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.Newline, cst.EmptyLine,
    cst.Comment, cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen, cst.RightParen,
    cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace})


class _ExplodeFirst(cst.CSTTransformer):
    """Splits the outermost flat bracket pair whose text is long enough to matter."""

    def __init__(self, module: cst.Module, unit: str, min_len: int) -> None:
        super().__init__()
        self.module = module
        self.unit = unit
        self.min_len = min_len
        self.depth = 0  # multi-line bracket pairs around the current node
        self.done = False
        self._stack: list[bool] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in _NO_CONTAINERS:
            return False  # nothing to split below (and libcst need not rebuild it)
        if isinstance(node, _CONTAINERS) and self.done:
            self._stack.append(False)
            return False
        if self.done:
            return False
        if isinstance(node, _CONTAINERS):
            multi = _exploded(node)
            self._stack.append(multi)
            if multi:
                self.depth += 1
            elif len(self.module.code_for_node(node)) >= self.min_len:
                self._stack[-1] = None  # type: ignore[call-overload]  # mark: explode on leave
                return False
        elif isinstance(node, (cst.IndentedBlock, cst.FunctionDef, cst.ClassDef)):
            return False
        return True

    # no visit_<Node>_<attribute> hooks: skip libcst's lookups
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        if isinstance(original_node, _CONTAINERS) and self._stack:
            mark = self._stack.pop()
            if mark is None and not self.done:
                new = _explode(updated_node, self.depth + 1, self.unit)
                if new is not None:
                    self.done = True
                    return new
            elif mark:
                self.depth -= 1
        return updated_node


#: where a node sits in its parent: (parent, attribute, index in a sequence attribute or None)
_Step = tuple[cst.CSTNode, str, "int | None"]


def _explode_first(module: cst.Module, stmt: cst.CSTNode, unit: str, min_len: int) -> cst.CSTNode | None:
    """What ``stmt.visit(_ExplodeFirst(module, unit, min_len))`` returns when it splits a bracket
    pair, None when it splits none — found by a read-only walk in libcst's visiting order and
    applied by rebuilding only the nodes above the split one (the transformer rebuilds every
    node it enters)."""
    path: list[_Step] = []
    found = _find_split(module, stmt, unit, min_len, 0, path)
    if found is None:
        return None
    new: cst.CSTNode = found
    for parent, name, index in reversed(path):
        if index is None:
            new = parent.with_changes(**{name: new})
        else:
            items = list(getattr(parent, name))
            items[index] = new
            new = parent.with_changes(**{name: items})
    return new


def _find_split(module: cst.Module, node: cst.CSTNode, unit: str, min_len: int, depth: int,
                path: list[_Step]) -> cst.CSTNode | None:
    """The split form of the first bracket pair :class:`_ExplodeFirst` would split under
    ``node`` (``path`` receives the way down to it), or None."""
    t = type(node)
    if t in _NO_CONTAINERS or t in (cst.IndentedBlock, cst.FunctionDef, cst.ClassDef):
        return None
    if t in _CONTAINER_TYPES:
        if _exploded(node):
            depth += 1
        elif len(module.code_for_node(node)) >= min_len:
            return _explode(node, depth + 1, unit)  # not entered either way
    attrs = _CHILD_ATTRS.get(t) or _child_attrs(node)
    for name in attrs:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            path.append((node, name, None))
            found = _find_split(module, value, unit, min_len, depth, path)
            if found is not None:
                return found
            path.pop()
        elif isinstance(value, (tuple, list)):
            for i, child in enumerate(value):
                if isinstance(child, cst.CSTNode):
                    path.append((node, name, i))
                    found = _find_split(module, child, unit, min_len, depth, path)
                    if found is not None:
                        return found
                    path.pop()
    return None


def _too_long(module: cst.Module, stmt: cst.CSTNode, indent: int, limit: int) -> tuple[bool, str]:
    """Does a line of ``stmt`` (its leading comments aside: markers are not wrapped) exceed
    ``limit`` at ``indent`` columns? Also returns the statement's text (:func:`.codegen.statement_text`)."""
    text, body = statement_text(module, stmt)
    return any(len(line) + indent > limit for line in body.replace(INDENT, "").splitlines()), text


def _recorded_too_long(module: cst.Module, stmt: cst.SimpleStatementLine, indent: int, limit: int,
                       spans: Spans | None) -> bool | None:
    """:func:`_too_long` for an original statement, answered from its recorded text where that
    is certain (None: generate it to know).

    The recorded text has the real indentation in front of the lines libcst indents, and none in
    front of the others (continuation lines it does not indent); :func:`_too_long` counts ``indent``
    columns in front of every line. With real indentation as wide as ``indent``, each line's
    counted width is its recorded width or that plus ``indent``: all lines within ``limit`` even
    with ``indent`` added means no, a recorded line over ``limit`` means yes."""
    rec = spans.recorded(stmt) if spans is not None else None
    if rec is None or len("".join(rec[1])) != indent:
        return None
    text, stack = rec
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline,
                         indent_tokens=list(stack))
    for line in stmt.leading_lines:  # comments above the statement are not counted
        line._codegen(state)
    leading = "".join(state.tokens)
    if not text.startswith(leading):
        return None
    widths = [len(line) for line in text[len(leading):].splitlines()]
    if max(widths, default=0) + indent <= limit:
        return False
    if max(widths, default=0) > limit:
        return True
    return None


def _original_too_long(module: cst.Module, original: cst.CSTNode, indent: int, limit: int,
                       spans: Spans | None) -> bool:
    known = _recorded_too_long(module, original, indent, limit, spans) \
        if isinstance(original, cst.SimpleStatementLine) else None
    return _too_long(module, original, indent, limit)[0] if known is None else known


def wrap_statement(module: cst.Module, stmt: cst.BaseStatement, indent: int, limit: int,
                   original: cst.CSTNode | None = None, spans: Spans | None = None) -> cst.BaseStatement:
    """``stmt`` (a changed statement at ``indent`` columns) wrapped to ``limit`` if it now exceeds
    it; untouched when its original was already too long (the project's own choice).

    The check generates the statement's text; with ``spans`` it is remembered there for the
    statement returned, so the output does not generate it a second time."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return stmt
    too_long, text = _too_long(module, stmt, indent, limit)
    if too_long and (original is None or not _original_too_long(module, original, indent, limit, spans)):
        unit = module.default_indent if module.default_indent.strip() == "" else "    "
        for _ in range(6):
            new = _explode_first(module, stmt, unit, min_len=20)
            if new is None:
                break
            stmt = new  # type: ignore[assignment]
            too_long, text = _too_long(module, stmt, indent, limit)
            if not too_long:
                break
    if spans is not None:
        spans.remember(stmt, text)
    return stmt
