"""Generate a module's text once and reuse it for every statement the rewrite did not touch.

Generating code from a libcst tree costs about as much as parsing it, and the codemod needs the
text twice: the text of each statement before the rewrite (:func:`.api.prune` looks for
triggers in it) and the whole module after it. Most statements come out of the rewrite as the
very same objects (libcst nodes are immutable, and the rewriter hands back untouched subtrees as
the originals), so their text is known already.

:func:`record` runs libcst's own code generation over the parsed module once, through a
:class:`~libcst._nodes.internal.CodegenState` whose ``before_codegen``/``after_codegen`` hooks
(the ones libcst's ``PositionProvider`` uses) note where each statement's tokens start and end.
:func:`generate` produces the rewritten module with libcst's code generation too, after
replacing each untouched statement — at any depth, so a function with one changed line keeps
the text of its other lines — by a node that emits the recorded text. The output is byte for
byte what ``module.bytes`` gives (``tests/codemod/test_module_bytes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState

#: Nodes whose text is recorded: every statement, and the parts of compound statements that
#: hold statements (their text is what :func:`generate` reuses).
_RECORDED: frozenset[type] = frozenset(
    t for t in vars(cst).values()
    if isinstance(t, type) and issubclass(t, cst.BaseStatement) and not getattr(t, "__abstractmethods__", None))

#: Nodes :func:`_reuse` looks into for statements (everything that can hold a statement).
_HOLDERS: tuple[type, ...] = tuple(t for t in (
    cst.Module, cst.BaseCompoundStatement, cst.IndentedBlock, cst.Else, cst.ExceptHandler,
    getattr(cst, "ExceptStarHandler", None), cst.Finally, getattr(cst, "MatchCase", None)) if t is not None)


#: where a statement is generated: the indentation stack, and whether an ``If`` is an ``elif``
#: (the two things besides the node itself its text depends on)
_Context = tuple[tuple[str, ...], bool]


class _Recorder(CodegenState):
    """A code generation state that records each statement's token range and context."""

    __slots__ = ("spans", "_open")

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.spans: dict[int, tuple[cst.CSTNode, int, int, _Context]] = {}
        self._open: list[tuple[cst.CSTNode, int]] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in _RECORDED:
            self._open.append((node, len(self.tokens)))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in _RECORDED:
            _, start = self._open.pop()
            parent = self._open[-1][0] if self._open else None
            elif_ = type(node) is cst.If and type(parent) is cst.If and parent.orelse is node  # type: ignore[union-attr]
            self.spans[id(node)] = (node, start, len(self.tokens), (tuple(self.indent_tokens), elif_))


class Spans:
    """The generated text of a module and of each of its statements (by node identity)."""

    def __init__(self, tokens: list[str], spans: dict[int, tuple[cst.CSTNode, int, int, _Context]],
                 default_indent: str, default_newline: str) -> None:
        self._tokens = tokens
        self._spans = spans
        self._texts: dict[int, str] = {}
        self.default_indent = default_indent
        self.default_newline = default_newline
        #: statements made by the rewrite whose text is known already: id → (node, text with INDENT)
        self._made: dict[int, tuple[cst.CSTNode, str]] = {}

    def remember(self, node: cst.CSTNode, text: str) -> None:
        """``node`` (made by the rewrite) generates as ``text`` (from :func:`statement_text`),
        whatever its indentation: :func:`generate` need not generate it again."""
        self._made[id(node)] = (node, text)

    def recorded(self, node: cst.CSTNode) -> tuple[str, tuple[str, ...]] | None:
        """The text ``node`` was generated as and the indentation stack it was generated at,
        if it is one of the recorded statements."""
        hit = self._spans.get(id(node))
        if hit is None or hit[0] is not node:
            return None
        return self.text(node) or "", hit[3][0]

    def text(self, node: cst.CSTNode, context: _Context | None = None) -> str | None:
        """The text ``node`` was generated as, if it is one of the recorded statements (and,
        with ``context``, was generated in that context)."""
        hit = self._spans.get(id(node))
        if hit is None or hit[0] is not node or (context is not None and hit[3] != context):
            made = self._made.get(id(node)) if context is not None else None
            if made is not None and made[0] is node:
                return made[1].replace(INDENT, "".join(context[0]))  # type: ignore[index]
            return None
        text = self._texts.get(id(node))
        if text is None:
            text = self._texts[id(node)] = "".join(self._tokens[hit[1]:hit[2]])
        return text


#: Stands for the indentation in :func:`statement_text`: indentation is the one part of a
#: statement's text that depends on where it is generated. A NUL byte is never part of the code
#: (files containing one are not parsed; CPython refuses source with one).
INDENT = "\x00"


class _LeadingEnd(CodegenState):
    """Generates with :data:`INDENT` as the indentation and notes where a statement's leading
    lines (comments and blank lines above it) end."""

    __slots__ = ("last_leading", "mark")

    def __init__(self, module: cst.Module, last_leading: cst.CSTNode | None) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline,
                         indent_tokens=[INDENT])
        self.last_leading = last_leading
        self.mark = 0

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node is self.last_leading:
            self.mark = len(self.tokens)


def statement_text(module: cst.Module, stmt: cst.CSTNode) -> tuple[str, str]:
    """``stmt``'s text with :data:`INDENT` where indentation goes, and the same without its
    leading lines (what a line-length check looks at). One generation gives both, and the first
    is what :func:`generate` emits for the statement at any depth (see :meth:`Spans.remember`).
    """
    leading = getattr(stmt, "leading_lines", ())
    state = _LeadingEnd(module, leading[-1] if leading else None)
    stmt._codegen(state)
    return "".join(state.tokens), "".join(state.tokens[state.mark:])


def record(module: cst.Module) -> Spans:
    """Generate ``module`` once, recording the text of each statement."""
    state = _Recorder(module)
    module._codegen(state)
    return Spans(state.tokens, state.spans, module.default_indent, module.default_newline)


#: top-level statements shared by every file (the generated helpers, :mod:`.prelude`): id → node
_CONSTANTS: dict[int, cst.CSTNode] = {}
#: their text per (id, default indent, default newline) of the module they are generated in
_CONSTANT_TEXTS: dict[tuple[int, str, str], str] = {}


def constant(node: cst.CSTNode) -> None:
    """Declare ``node`` a top-level statement many modules share (kept for the process's
    lifetime): its text is generated once per indentation and newline style, not once a file."""
    _CONSTANTS[id(node)] = node


def _constant_text(node: cst.CSTNode, spans: Spans) -> str | None:
    if _CONSTANTS.get(id(node)) is not node:
        return None
    key = (id(node), spans.default_indent, spans.default_newline)
    text = _CONSTANT_TEXTS.get(key)
    if text is None:
        state = CodegenState(default_indent=spans.default_indent, default_newline=spans.default_newline)
        node._codegen(state)
        text = _CONSTANT_TEXTS[key] = "".join(state.tokens)
    return text


@dataclass(frozen=True)
class _Verbatim(cst.BaseStatement):
    """Stands in for an untouched statement during :func:`generate`: emits its recorded text.

    Never part of a tree anyone else sees (made and dropped inside :func:`generate`)."""

    text: str

    def _visit_and_replace_children(self, visitor: object) -> _Verbatim:  # type: ignore[override]
        return self

    def _codegen_impl(self, state: CodegenState, **kwargs: object) -> None:
        state.add_token(self.text)


def _reuse(node: cst.CSTNode, spans: Spans, indent: tuple[str, ...], elif_: bool = False) -> cst.CSTNode:
    """``node`` with every recorded (untouched) statement below it replaced by its text.

    ``indent`` and ``elif_`` are the context ``node`` is generated in; a statement is only
    replaced where it was recorded in the same context."""
    text = spans.text(node, (indent, elif_))
    if text is None and not indent:
        text = _constant_text(node, spans)
    if text is not None:
        return _Verbatim(text)
    if not isinstance(node, _HOLDERS):
        return node  # a changed simple statement (or not a statement): generated afresh
    if isinstance(node, cst.IndentedBlock):
        indent = (*indent, spans.default_indent if node.indent is None else node.indent)
    changes: dict[str, object] = {}
    for name in _holder_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            new = _reuse(value, spans, indent, name == "orelse" and isinstance(node, cst.If))
            if new is not value:
                changes[name] = new
        elif isinstance(value, (tuple, list)) and value and isinstance(value[0], cst.CSTNode):
            items = [_reuse(v, spans, indent) for v in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changes[name] = items
    return node.with_changes(**changes) if changes else node


_FIELDS: dict[type, tuple[str, ...]] = {}

#: fields of statement holders that never hold statements (expressions, whitespace, tokens)
_NOT_STATEMENTS = frozenset({"header", "footer", "leading_lines", "lines_after_decorators", "decorators",
                             "params", "returns", "name", "bases", "keywords", "test", "target", "iter",
                             "items", "type", "subject", "pattern", "guard", "type_parameters"})


def _holder_fields(t: type) -> tuple[str, ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = _FIELDS[t] = tuple(f for f in t.__dataclass_fields__ if f not in _NOT_STATEMENTS  # type: ignore[attr-defined]
                                   and not f.startswith(("whitespace", "lpar", "rpar")))
    return names


def generate(module: cst.Module, spans: Spans | None) -> bytes:
    """``module.bytes``, reusing the recorded text of untouched statements.

    A file without a trailing newline is generated the plain way (libcst drops the last newline
    token then, which a recorded text does not split off)."""
    if spans is None or not module.has_trailing_newline:
        return module.bytes
    return module.code_for_node(_reuse(module, spans, ())).encode(module.encoding)
