"""Rewrite one module's source: the pure function the runner calls for every file.

``rewrite_source(bytes) -> Outcome`` parses with libcst (keeping encoding, line endings, comments
and formatting), runs :mod:`.collect` then :mod:`.transform`, adds the imports the new code needs
(libcst's :class:`~libcst.codemod.visitors.AddImportsVisitor`), and re-parses its own output before
anyone writes it. A cheap text pre-filter skips files that mention none of the trigger strings,
which is what keeps large repositories fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from ..identity import BotDirectory
from .collect import collect
from .facts_table import FactIndex
from .identity_expr import HelperMode, IdentityBuilder
from .transform import MARKER_PREFIX, Event, FileContext, Rewriter

#: A file is looked at only if it contains one of these (bytes, case-sensitive).
TRIGGERS: tuple[bytes, ...] = (b"vnd.layer", b"layer:///", b"/apps/", b"/blocks", b"/conversations",
                               b"/announcements", b"/notifications", b"recipient_status", b"LAYER_",
                               b"layer_", b"LayerClient")
#: ...and is a "Layer file" (payload shapes and response reads are trusted) if it also matches this.
_LAYER_FILE = re.compile(rb"vnd\.layer|layer:///|/apps/|LAYER_|LayerClient|(?:import|from)\s+[\w.]*layer", re.IGNORECASE)
_WEBHOOK_FILE = re.compile(rb"layer-webhook-", re.IGNORECASE)


@dataclass
class Options:
    index: FactIndex
    bots: BotDirectory | None = None
    identity_helper: HelperMode = "inline"


@dataclass
class Outcome:
    changed: bool = False
    code: bytes = b""
    events: list[Event] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)  # (line, text)
    skipped: str | None = None  # reason when not processed (parse error...)
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
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        msg = str(exc).strip().splitlines()
        return Outcome(code=code, skipped=f"does not parse as Python 3 (line {exc.raw_line}): "
                                          f"{msg[0] if msg else 'syntax error'}")
    except Exception as exc:  # libcst may raise other errors on odd encodings
        return Outcome(code=code, skipped=f"cannot be parsed: {type(exc).__name__}: {exc}")
    ctx = FileContext(layer_file=bool(_LAYER_FILE.search(code)), webhook_file=bool(_WEBHOOK_FILE.search(code)))
    builder = IdentityBuilder(options.identity_helper,
                              "urllib.parse.quote" if _quote_taken(module) else "quote")
    rewriter = Rewriter(options.index, collect(module), builder, options.bots, ctx)
    new_module = module.visit(rewriter)
    if builder.needs_import and new_module is not module:
        cctx = CodemodContext()
        for mod, obj in sorted(builder.needs_import, key=lambda x: (x[0], x[1] or "")):
            AddImportsVisitor.add_needed_import(cctx, mod, obj)
        new_module = AddImportsVisitor(cctx).transform_module(new_module)
    new_code = new_module.bytes if new_module is not module else code
    out = Outcome(code=new_code, events=rewriter.events, bots_used=rewriter.bots_used)
    out.changed = new_code != code
    if out.changed:
        try:
            cst.parse_module(new_code)
            compile(new_code, "<layer-migrate>", "exec", dont_inherit=True)
        except Exception as exc:  # our bug, never the user's: refuse to write
            return Outcome(code=code, skipped=f"internal error: rewritten code does not parse ({exc}); "
                                              f"file left unchanged — please report")
    out.markers = scan_markers(new_code, module.encoding)
    return out
