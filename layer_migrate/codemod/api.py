"""Rewrite one module's source: the pure function the runner calls for every file.

``rewrite_source(bytes) -> Outcome`` parses with libcst (keeping encoding, line endings, comments
and formatting), runs :mod:`.collect` then :mod:`.transform`, adds the imports the new code needs
(:mod:`.imports`, isort's placement), and re-parses its own output before
anyone writes it. A cheap text pre-filter skips files that mention none of the trigger strings,
which is what keeps large repositories fast.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from ..identity import BotDirectory
from .codegen import Spans, generate, record
from .collect import collect
from .cstutil import QUOTE
from .facts_table import FactIndex
from .identity_expr import HelperMode, IdentityBuilder
from .imports import add_imports
from .nodes import MARKER_PREFIX, Event, FileContext
from .prelude import Prelude, helper_names
from .trace import Tracer
from .transform import Rewriter, relevant

#: A file is looked at only if it contains one of these (bytes, case-sensitive).
TRIGGERS: tuple[bytes, ...] = (b"vnd.layer", b"layer:///", b"/apps/", b"/blocks", b"/conversations",
                               b"/announcements", b"/notifications", b"recipient_status", b"LAYER_",
                               b"layer_", b"LayerClient")
#: ...and is a "Layer file" (payload shapes and response reads are trusted) if it also matches this.
_LAYER_FILE = re.compile(rb"vnd\.layer|layer:///|/apps/|LAYER_|LayerClient|(?:import|from)\s+[\w.]*layer", re.IGNORECASE)
#: ...and "talks to the Platform API" (a skipped file like this leaves the migration incomplete)
_PLATFORM_API = re.compile(rb"vnd\.layer\+json|layer:///|api\.layer\.com|/apps/|LayerClient")
_WEBHOOK_FILE = re.compile(rb"layer[-_]webhook[-_]", re.IGNORECASE)


@dataclass
class Options:
    index: FactIndex
    bots: BotDirectory | None = None
    identity_helper: HelperMode = "inline"
    #: wrap changed statements to this many columns (None: never); the runner reads it from the
    #: project's ruff/black/flake8 config (:func:`.wrap.line_length_for`)
    line_length: int | None = None


@dataclass
class Outcome:
    changed: bool = False
    code: bytes = b""
    events: list[Event] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)  # (line, text)
    skipped: str | None = None  # reason when not processed (parse error...)
    skipped_line: int = 1  # line the reason points at (a parse error's real line)
    #: a skipped file that talks to the Platform API: the migration is incomplete without it
    layer_skipped: bool = False
    bots_used: dict[str, str] = field(default_factory=dict)
    filtered: bool = False  # True when the pre-filter skipped the file


def mentions_layer(code: bytes) -> bool:
    return any(t in code for t in TRIGGERS)


def _quote_taken(module: cst.Module) -> bool:
    """True when the module binds ``quote`` to something other than urllib.parse.quote."""
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    mod = cst.helpers.get_full_name_for_node(small.module) if small.module else ""
                    for alias in small.names:
                        bound = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
                        if bound == "quote" and not (mod == "urllib.parse" and alias.name.value == "quote"):
                            return True
                elif isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Name) and t.target.value == "quote":
                            return True
        elif isinstance(stmt, cst.FunctionDef) and stmt.name.value == "quote":
            return True
    return False


#: Text a statement must contain for any rewrite to apply inside it (see :func:`prune`).
STATEMENT_TRIGGERS: tuple[str, ...] = ("vnd.layer", "participants", "sender", "recipient", "operation",
                                       "blocks", "/conversations", "/announcements", "/notifications",
                                       "/users", "/apps")


def _assigned_names(stmt: cst.CSTNode) -> list[str]:
    names = []
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                names += [t.target.value for t in small.targets if isinstance(t.target, cst.Name)]
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                names.append(small.target.value)
    return names


def prune(module: cst.Module, spans: Spans | None = None) -> set[int]:
    """Ids of top-level (and class-level) statements that cannot hold anything to rewrite.

    Both passes skip those subtrees: walking and rebuilding a libcst tree in Python costs about
    ten times its parse, so not walking functions that never mention the API is what keeps the
    codemod within reach of a bare parse on Layer files. Names of constants that hold a
    trigger (``BLOCKS_URL = ".../blocks/%s"``) become triggers themselves, so a call that
    uses one is still visited. The statements' text comes from ``spans`` (:func:`.codegen.record`,
    which :func:`.codegen.generate` reuses for the output), else is generated here.
    """
    if spans is None:
        spans = record(module)
    codes: list[tuple[cst.CSTNode, str]] = []
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            codes += [(inner, spans.text(inner) or module.code_for_node(inner)) for inner in stmt.body.body]
        else:
            codes.append((stmt, spans.text(stmt) or module.code_for_node(stmt)))
    triggers = list(STATEMENT_TRIGGERS)
    for stmt, code in codes:
        if any(t in code for t in STATEMENT_TRIGGERS):
            triggers += [n for n in _assigned_names(stmt) if len(n) > 2]
    skip: set[int] = set()
    for stmt, code in codes:
        if not any(t in code for t in triggers):
            skip.add(id(stmt))
    return skip


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body)


#: Brackets nested deeper than this, or lines longer than this, are not given to the parser:
#: libcst's native parser recurses per bracket and a few thousand crash the process (SIGSEGV),
#: taking a whole run down (issue 11 §6). Real code stays far below both.
MAX_NESTING = 200
MAX_LINE = 100_000
_BRACKETS = re.compile(rb"[()\[\]{}]")


def nesting_problem(code: bytes) -> tuple[int, str] | None:
    """``(line, reason)`` when the file is too deeply nested (or has an absurd line) to parse safely.

    Counts brackets outside of nothing in particular (strings and comments count too), so it can
    only over-estimate the depth — which is fine for a bound this far above real code."""
    if max(map(len, code.splitlines()), default=0) > MAX_LINE:
        return 1, f"a line is longer than {MAX_LINE} characters: not parsed (safety bound)"
    if sum(code.count(c) for c in (b"(", b"[", b"{")) <= MAX_NESTING:
        return None
    depth = 0
    for m in _BRACKETS.finditer(code):
        if m.group() in b"([{":
            depth += 1
            if depth > MAX_NESTING:
                line = code.count(b"\n", 0, m.start()) + 1
                return line, f"brackets nested deeper than {MAX_NESTING}: not parsed (safety bound)"
        elif depth:
            depth -= 1
    return None




_QUOTES = re.compile(rb"""[\s(\[{:,=](['"])""")


def preferred_quote(code: bytes) -> str:
    """The quote character most string literals of the file start with (generated strings use it)."""
    single = double = 0
    for m in _QUOTES.finditer(code):
        if m.group(1) == b"'":
            single += 1
        else:
            double += 1
    return "'" if single > double else '"'


def _import_end(body: Sequence[cst.CSTNode]) -> int:
    """Index after the module's docstring and leading imports (``try: import … except
    ImportError`` blocks included): where generated module-level code goes."""
    end = 0
    for i, stmt in enumerate(body):
        if i == 0 and _is_docstring(stmt):
            end = 1
        elif _is_import_line(stmt) or _is_import_try(stmt):
            end = i + 1
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            break
    return end


def _is_import_try(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.Try) and isinstance(stmt.body, cst.IndentedBlock) and bool(stmt.body.body) \
        and all(_is_import_line(s) for s in stmt.body.body)


def insert_after_imports(module: cst.Module, stmts: list[cst.BaseStatement]) -> cst.Module:
    if not stmts:
        return module
    body = list(module.body)
    at = _import_end(body)
    if at < len(body) and isinstance(body[at], (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        # two blank lines between the helpers (functions) and what follows (PEP 8, E305)
        nxt = body[at]
        lines = list(nxt.leading_lines)
        blank = 0
        while blank < len(lines) and lines[blank].comment is None:
            blank += 1
        if blank < 2:
            body[at] = nxt.with_changes(leading_lines=[cst.EmptyLine()] * (2 - blank) + lines)
    return module.with_changes(body=[*body[:at], *stmts, *body[at:]])


def scan_markers(code: bytes, encoding: str = "utf-8") -> list[tuple[int, str]]:
    if MARKER_PREFIX.encode() not in code:
        return []
    out = []
    for i, line in enumerate(code.decode(encoding, errors="replace").splitlines(), 1):
        s = line.strip()
        if s.startswith(MARKER_PREFIX):
            out.append((i, s))
    return out


def rewrite_source(code: bytes, options: Options) -> Outcome:
    """Rewrite one file's bytes. Never raises for bad input: parse errors set ``skipped``."""
    if not mentions_layer(code):
        return Outcome(code=code, filtered=True)
    layer = bool(_PLATFORM_API.search(code))
    if b"\x00" in code:
        return Outcome(code=code, skipped="not valid Python: the file contains a NUL byte", layer_skipped=layer)
    too_deep = nesting_problem(code)
    if too_deep is not None:
        return Outcome(code=code, skipped=too_deep[1], skipped_line=too_deep[0], layer_skipped=layer)
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        why = exc.message.split(" expected one of")[0].rstrip(": ") or "syntax error"
        return Outcome(code=code, skipped=f"does not parse as Python 3 ({why})",
                       skipped_line=max(1, exc.raw_line), layer_skipped=layer)
    except RecursionError:
        return Outcome(code=code, skipped="too deeply nested for the parser", layer_skipped=layer)
    except Exception as exc:  # libcst may raise other errors on odd encodings
        return Outcome(code=code, skipped=f"cannot be parsed: {type(exc).__name__}: {exc}", layer_skipped=layer)
    ctx = FileContext(layer_file=bool(_LAYER_FILE.search(code)), webhook_file=bool(_WEBHOOK_FILE.search(code)))
    quote_func = "urllib.parse.quote" if _quote_taken(module) else "quote"
    builder = IdentityBuilder(options.identity_helper, quote_func)
    q = preferred_quote(code)
    prelude = Prelude(quote=q, quote_func=quote_func,
                      bots=dict(options.bots.mapping) if options.bots is not None else {})
    spans = record(module)
    skip = prune(module, spans)
    present: set[str] = set()
    for stmt in module.body:
        names = helper_names(stmt)
        if names:  # an earlier run's helpers
            present |= names
            skip.add(id(stmt))
    token = QUOTE.set(q)
    try:
        rewriter = Rewriter(options.index, collect(module, skip, relevant), builder, options.bots, ctx, skip,
                            prelude=prelude, tracer=Tracer(module), module=module,
                            line_length=options.line_length, spans=spans)
        new_module = module.visit(rewriter)
    finally:
        QUOTE.reset(token)
    if not rewriter.events and not builder.needs_import:
        # Nothing rewritten or marked: the file is returned byte for byte. (Generating it would
        # not always be the identity: libcst drops the space in `except X :`, and a codemod must
        # never touch formatting it has no reason to touch.)
        return Outcome(code=code, bots_used=rewriter.bots_used, markers=scan_markers(code, module.encoding))
    needed = set(builder.needs_import)
    if prelude.needed:
        needed |= set(prelude.imports())
        new_module = insert_after_imports(new_module, prelude.statements(present, module.default_newline))
    if needed:
        new_module = add_imports(new_module, sorted(needed, key=lambda x: (x[0], x[1] or "")))
    new_code = generate(new_module, spans)
    out = Outcome(code=new_code, events=rewriter.events, bots_used=rewriter.bots_used)
    out.changed = new_code != code
    if out.changed:
        try:
            # CPython's own parser (the one that will run the code), AST only: an order of
            # magnitude cheaper than a second libcst parse, and it rejects what Python rejects
            compile(new_code, "<layer-migrate>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except Exception as exc:  # our bug, never the user's: refuse to write
            return Outcome(code=code, skipped=f"internal error: rewritten code does not parse ({exc}); "
                                              f"file left unchanged — please report")
    out.markers = scan_markers(new_code, module.encoding)
    return out
