"""Second pass: the libcst transformer that rewrites one module from 1.x to the target version.

*What* changes comes from the rule facts (:mod:`.facts_table`); the rewriter only knows *how* each
kind of fact shows up in Python source, one mixin per kind:

* :class:`~layer_migrate.facts.MediaTypeFact` (here) — the ``version=`` parameter inside string
  literals and f-string text that spell the platform media type (R02/R03). The webhooks media
  type is a different API and only changes under its own opt-in rule (R53).
* :class:`~layer_migrate.facts.FieldFact` and :class:`~layer_migrate.facts.PatchOpFact`
  (:mod:`.payloads`) — request bodies, found through the call sites of :mod:`.collect` or, in
  Layer files, by the v1 body's exact key shape; Layer-Patch operation dicts.
* :class:`~layer_migrate.facts.RouteFact` (:mod:`.block_calls`, :mod:`.blockurl`) — block-list
  POST/DELETE calls become the PATCH (R38/R39).
* :class:`~layer_migrate.facts.ResponseReadFact` (:mod:`.reads`) — reads of changed response shapes
  (R15, R24, R25): rewritten where the meaning is certain, else a ``# layer-migrate: <rule>`` marker.

This class owns the traversal state (markers per statement, scopes, names seen) and the hooks
that several kinds share (``leave_Assign``, ``leave_Call``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import libcst as cst

from ..facts import RouteFact
from ..identity import BotDirectory
from .block_calls import BlockCallRewrites
from .blockurl import (
    _strip_blocks,
)
from .codegen import Spans
from .collect import Collected
from .cstutil import dict_items, dict_keys, is_dict_like, make_str
from .facts_table import FactIndex
from .identity_expr import IdentityBuilder
from .nodes import (
    MARKER_PREFIX,
    Event,
    FileContext,
    _is_key_read,
    _literal_key,
    _user_ids_of,
)
from .payloads import PayloadRewrites
from .prelude import Prelude, is_helper_call
from .reads import ReadRewrites
from .trace import Tracer
from .wrap import wrap_statement

#: Statement node types markers attach to (a set of concrete types: ``isinstance`` against the
#: abstract BaseCompoundStatement costs an ABC check on every node of every file).
_STATEMENTS: frozenset[type] = frozenset(
    t for t in (cst.SimpleStatementLine, cst.If, cst.For, cst.While, cst.With, cst.Try,
                getattr(cst, "TryStar", None), cst.FunctionDef, cst.ClassDef, getattr(cst, "Match", None))
    if t is not None)

#: Node types the rewriter never changes and that hold nothing it could change (names, numbers,
#: strings, whitespace, punctuation, operators, imports): not entered, so libcst does not rebuild
#: them; their ``leave_*`` (``leave_SimpleString``) still runs.
_LEAVES: frozenset[type] = frozenset(
    t for t in vars(cst).values()
    if isinstance(t, type) and issubclass(t, cst.CSTNode) and not getattr(t, "__abstractmethods__", None)
    and (issubclass(t, (cst.BaseParenthesizableWhitespace, cst.BaseUnaryOp, cst.BaseBooleanOp,
                        cst.BaseBinaryOp, cst.BaseCompOp, cst.BaseAugOp))
         or t in (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis,
                  cst.FormattedStringText, cst.Comment, cst.EmptyLine, cst.Newline, cst.TrailingWhitespace,
                  cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.ImportStar,
                  cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
                  cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Asynchronous, cst.ParamStar, cst.ParamSlash,
                  cst.Import, cst.ImportFrom, cst.ImportAlias, cst.Pass, cst.Break, cst.Continue,
                  cst.Global, cst.Nonlocal)))


_HOOKS: dict[tuple[type, str, type], Callable[..., Any] | None] = {}


def _hook(cls: type, kind: str, t: type) -> Callable[..., Any] | None:
    """``cls``'s own ``visit_<T>``/``leave_<T>`` function for node type ``t``, None when it has
    none (libcst's typed defaults do nothing: no ``visit_*`` → enter, no ``leave_*`` → keep).

    What libcst's ``CSTTransformer.on_visit``/``on_leave`` look up by name with ``getattr`` on
    every node, once per type: most nodes the rewriter passes (whitespace, names) have no hook.
    """
    key = (cls, kind, t)
    try:
        return _HOOKS[key]
    except KeyError:
        pass
    name = f"{kind}_{t.__name__}"
    fn = getattr(cls, name, None)
    if fn is getattr(cst.CSTTransformer, name, None):
        fn = None
    _HOOKS[key] = fn
    return fn


def relevant(node: cst.CSTNode) -> bool:
    """Might the rewriter act on ``node`` (a ``visit_*``/``leave_*`` hook or a marker)?

    Strings only matter when they spell the platform media type. Used by :func:`.collect.collect`
    to find subtrees the rewriter need not enter.
    """
    t = type(node)
    if t in _TEXT_HOOKS:
        return "vnd.layer" in node.value  # type: ignore[attr-defined]
    if t is cst.FormattedString:
        return False  # its text parts say it
    return t in _HOOKED


class Rewriter(BlockCallRewrites, ReadRewrites, PayloadRewrites, cst.CSTTransformer):
    """Rewrites one module; ``events`` and ``bots_used`` say what it did (for the report)."""

    def __init__(self, index: FactIndex, collected: Collected, builder: IdentityBuilder,
                 bots: BotDirectory | None, ctx: FileContext, skip: set[int] | None = None,
                 prelude: Prelude | None = None, tracer: Tracer | None = None,
                 module: cst.Module | None = None, line_length: int | None = None,
                 spans: Spans | None = None) -> None:
        super().__init__()
        #: the module's recorded text (:mod:`.codegen`); wrapped statements' text is added to it
        self.spans = spans
        #: wrap changed statements to this many columns (None: never), see :mod:`.wrap`
        self.module = module
        self.line_length = line_length if module is not None else None
        self._block_depth = 0
        self.prelude = prelude or Prelude(bots=dict(bots.mapping) if bots is not None else {})
        self.tracer = tracer
        self.skip = skip or set()
        self.index = index
        self.col = collected
        self.ids = builder
        self.bots = bots
        self.ctx = ctx
        self.events: list[Event] = []
        self.bots_used: dict[str, str] = {}
        self._stmt_markers: list[list[str]] = []
        self._edits = 0  # nodes replaced so far
        self._edit_marks: list[int] = []  # self._edits when each entered node was visited
        self._list_children: set[int] = set()
        self._sender_names: set[str] = set()
        self._status_names: set[str] = set()
        self._marked_names: set[int] = set()
        self._scopes: list[int] = [0]
        # closes over the scope list, not over self: a rewriter → builder → closure → rewriter
        # cycle would keep each file's whole tree alive until the garbage collector runs
        scopes = self._scopes
        builder.resolve = lambda name: collected.value_of(scopes[-1], name)
        #: URL assignments to strip for a block route: id(assigned value) → (call id, fact)
        self._url_plans: dict[int, tuple[int, RouteFact]] = {}
        for site in collected.sites:
            fact = index.routes.get(site.match.name)
            if fact is not None and site.url_source is not None:
                self._url_plans[id(site.url_source)] = (id(site.call), fact)
        self._stripped: dict[int, cst.BaseExpression | None] = {}
        self._routed: list[RouteFact] = []  # block routes rewritten in the current function
        self._media = self._media_patterns()

    # ---- bookkeeping --------------------------------------------------------------------------
    def _done(self, rule: str) -> None:
        self.events.append(Event(rule, "rewritten"))

    def _mark(self, rule: str, message: str) -> None:
        spec = self.index.spec_of(rule)
        text = f"{MARKER_PREFIX} {rule}{f' ({spec})' if spec else ''}: {message}"
        if self._stmt_markers:
            if text not in self._stmt_markers[-1]:
                self._stmt_markers[-1].append(text)
        self.events.append(Event(rule, "marked"))

    def on_visit(self, node: cst.CSTNode) -> bool:
        t = type(node)
        if t in _LEAVES:
            return False
        if t is cst.IndentedBlock:
            self._block_depth += 1
        self._edit_marks.append(self._edits)
        if t in _STATEMENTS:
            self._stmt_markers.append([])
            if id(node) in self.skip:  # nothing to rewrite in there (api.prune)
                return False
        hook = _hook(type(self), "visit", t)
        enter = hook is None or hook(self, node) is not False  # libcst's CSTTransformer.on_visit
        return enter and id(node) not in self.col.inert  # inert: nothing below any hook acts on (collect)

    # no visit_<Node>_<attribute> / leave_<Node>_<attribute> hooks: skip libcst's lookups
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        """Run the ``leave_*`` hook, attach markers; an unchanged subtree comes back as the original.

        libcst hands every entered node back as a rebuilt copy; returning the original object when
        nothing below changed lets the caller reuse the text already generated for untouched
        statements (:func:`.api.module_bytes`).
        """
        t = type(original_node)
        hook = _hook(type(self), "leave", t)
        result = updated_node if hook is None else hook(self, original_node, updated_node)
        if t in _LEAVES:  # not entered: updated_node is original_node
            if result is not updated_node:
                self._edits += 1
            return result
        if t in _STATEMENTS:
            markers = self._stmt_markers.pop()
            if markers and isinstance(result, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) \
                    and hasattr(result, "leading_lines"):
                existing = {ln.comment.value for ln in result.leading_lines if ln.comment is not None}
                new = [cst.EmptyLine(indent=True, comment=cst.Comment(m)) for m in markers if m not in existing]
                if new:
                    result = result.with_changes(leading_lines=[*result.leading_lines, *new])
        if t is cst.IndentedBlock:
            self._block_depth -= 1
        if t is cst.SimpleStatementLine and self.line_length and (
                result is not updated_node or self._edits != self._edit_marks[-1]):
            unit = len(self.module.default_indent) if self.module is not None else 4
            result = wrap_statement(self.module, result, unit * self._block_depth,  # type: ignore[arg-type]
                                    self.line_length, original_node, self.spans)
        if result is not updated_node:
            self._edits += 1
        elif self._edits == self._edit_marks[-1]:
            result = original_node
        self._edit_marks.pop()
        return result

    # ---- media types (R02/R03, R53) -----------------------------------------------------------
    def _media_patterns(self) -> list[tuple[re.Pattern[str], str]]:
        out = []
        for media_type, fact in self.index.media_types.items():
            versions = "|".join(re.escape(v) for v in fact.from_versions)
            rx = re.compile(rf"({re.escape(media_type)}\s*;\s*version\s*=\s*\"?)({versions})(?![0-9.])",
                            re.IGNORECASE)
            out.append((rx, fact.rule))
        return out

    def _rewrite_media(self, text: str) -> str:
        if "vnd.layer" not in text:
            return text
        for rx, rule in self._media:
            new, n = rx.subn(lambda m: m.group(1) + self.index.target, text)
            if n:
                text = new
                for _ in range(n):
                    self._done(rule)
        return text

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        raw = updated_node.value
        if "vnd.layer" not in raw:
            return updated_node
        new = self._rewrite_media(raw)
        return updated_node if new == raw else updated_node.with_changes(value=new)

    def leave_FormattedStringText(self, original_node: cst.FormattedStringText,
                                  updated_node: cst.FormattedStringText) -> cst.FormattedStringText:
        raw = updated_node.value
        if "vnd.layer" not in raw:
            return updated_node
        new = self._rewrite_media(raw)
        return updated_node if new == raw else updated_node.with_changes(value=new)

    def leave_FormattedString(self, original_node: cst.FormattedString,
                              updated_node: cst.FormattedString) -> cst.BaseExpression:
        parts = updated_node.parts
        for i, part in enumerate(parts[:-1]):
            if (isinstance(part, cst.FormattedStringText) and "vnd.layer+json" in part.value
                    and re.search(r"version\s*=\s*$", part.value)
                    and isinstance(parts[i + 1], cst.FormattedStringExpression)):
                rule = self.index.accept_rule
                if rule is not None:
                    self._mark(rule, f"the Accept version comes from an expression: make it {self.index.target}")
        return updated_node

    # ---- request bodies (FieldFact) ---------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.BaseSmallStatement:
        """``notification["recipients"] = <v1 overrides>`` (R26) in Layer files."""
        plan = self._url_plans.get(id(original_node.value))
        if plan is not None:  # `url = ".../blocks/" + u` later used by a block call (R38/R39)
            stripped = _strip_blocks(updated_node.value, plan[1].body_op == "remove")
            if stripped is not None:
                self._stripped[plan[0]] = stripped[1]
                return updated_node.with_changes(value=stripped[0])
        if not self.ctx.layer_file or self.ctx.webhook_file or len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        if isinstance(target, cst.Name):
            sender_rule = self._r_sender
            if sender_rule is not None and _is_key_read(updated_node.value, "sender") \
                    and not is_helper_call(updated_node.value):
                # `sender = msg["sender"]`: the 1.x shape at the parse site (R24)
                self._sender_names.discard(target.value)
                self._done(sender_rule)
                return updated_node.with_changes(value=self.prelude.call("_layer_v1_sender", updated_node.value))
            # remember `status = msg["recipient_status"]` (R25)
            for names, key in ((self._sender_names, "sender"), (self._status_names, "recipient_status")):
                if _is_key_read(updated_node.value, key):
                    names.add(target.value)
                else:
                    names.discard(target.value)
            if self._participants_read(updated_node.value):  # `users = conv["participants"]` (R15)
                self._done(self._r_participants)  # type: ignore[arg-type]
                return updated_node.with_changes(value=_user_ids_of(updated_node.value))
        if isinstance(target, cst.Subscript) and _literal_key(target) == "sender" \
                and is_dict_like(updated_node.value):  # `body["sender"] = {"user_id": u}` (R21/R22)
            return self._sender_item(target, updated_node)
        if isinstance(target, cst.Subscript) and _literal_key(target) == "recipients" \
                and isinstance(updated_node.value, (cst.Name, cst.Call, cst.Attribute)) \
                and not is_helper_call(updated_node.value) and self._is_notification_name(target.value):
            # `data["recipients"] = overrides` in the function that builds a notification dict:
            # the v1 map (or list) is converted where it is built (R26)
            fact = self._overrides_fact()
            if fact is not None:
                self._done(fact.rule)
                return updated_node.with_changes(
                    value=self.prelude.call("_layer_notification_recipients", updated_node.value))
        if isinstance(target, cst.Subscript) and _literal_key(target) == "recipients" \
                and self._looks_like_overrides(updated_node.value):
            fact = self._overrides_fact()
            if fact is not None:
                new = self._overrides(updated_node.value, fact.rule)
                if new is not updated_node.value:
                    return updated_node.with_changes(value=new)
        return updated_node

    def _is_notification_name(self, node: cst.BaseExpression) -> bool:
        """``node`` names a dict assigned in this scope with a notification's keys (text/sound)."""
        if not isinstance(node, cst.Name):
            return False
        value = self.col.assigns.get((self._scopes[-1], node.value))
        return bool(value) and len(value) == 1 and is_dict_like(value[0]) and bool(
            dict_keys(value[0]) & {"text", "sound"}) and not dict_keys(value[0]) & {"sender", "parts"}

    def _sender_item(self, target: cst.Subscript, assign: cst.Assign) -> cst.Assign:
        """Apply the ``sender.*`` facts to ``x["sender"] = {...}`` as if it were inside the body."""
        body: cst.BaseExpression = cst.Dict(elements=[cst.DictElement(make_str("sender"), assign.value)])
        for fact in self.index.fields.get("messages.send", []):
            if fact.path.startswith("sender."):
                body = self._apply(body, fact)
        items = dict_items(body)
        if len(items) != 1 or items[0].key == "sender" or items[0].key is None or items[0].value is None:
            return assign
        key_node = target.slice[0].slice.value  # type: ignore[attr-defined]
        new_key = make_str(items[0].key, key_node if isinstance(key_node, cst.SimpleString) else None)
        new_target = target.with_changes(slice=[target.slice[0].with_changes(
            slice=cst.Index(new_key))])
        return assign.with_changes(targets=[assign.targets[0].with_changes(target=new_target)],
                                   value=items[0].value)

    # ---- calls: routes (RouteFact), dict(...) bodies, response reads ------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        site = self.col.site_by_call.get(id(original_node))
        if site is not None:
            fact = self.index.routes.get(site.match.name)
            if fact is not None:
                return self._route(site, updated_node, fact)
            return updated_node
        if is_dict_like(updated_node) and updated_node.args:
            result = self._patch_op(original_node, updated_node)
            if result is not updated_node:
                return result
            return self._body(original_node, updated_node)
        return self._read_call(updated_node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sender_names = set()
        self._status_names = set()
        self._routed = []
        self._scopes.append(id(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.BaseStatement:
        if self._scopes and self._scopes[-1] == id(original_node):
            self._scopes.pop()
        return updated_node


_TEXT_HOOKS = (cst.SimpleString, cst.FormattedStringText)
#: node types with a visit_/leave_ hook in the rewriter's own classes, and the statement types
#: markers attach to
_HOOKED: frozenset[type] = frozenset(
    {getattr(cst, name.split("_", 1)[1]) for klass in Rewriter.__mro__ if klass.__module__.startswith("layer_migrate")
     for name in vars(klass) if name.startswith(("visit_", "leave_")) and hasattr(cst, name.split("_", 1)[1])}
    | _STATEMENTS)
