"""Second pass: the libcst transformer that rewrites one module from 1.x to the target version.

*What* changes comes from the rule facts (:mod:`.facts_table`); this module only knows *how* each
kind of fact shows up in Python source:

* :class:`~layer_migrate.facts.MediaTypeFact` — the ``version=`` parameter inside string literals
  and f-string text that spell the platform media type (R02/R03). The webhooks media type is a
  different API and only changes under its own opt-in rule (R53).
* :class:`~layer_migrate.facts.FieldFact` — request bodies (dict literals and ``dict(...)``), found
  through the call sites of :mod:`.collect` or, in Layer files, by the v1 body's exact key shape
  (R14, R21, R22, R26, R34, R35, R37).
* :class:`~layer_migrate.facts.PatchOpFact` — Layer-Patch operation dicts (R16, R17, R40, R41).
* :class:`~layer_migrate.facts.RouteFact` — block-list POST/DELETE calls become the PATCH (R38/R39).
* :class:`~layer_migrate.facts.ResponseReadFact` — reads of changed response shapes (R15, R24,
  R25): rewritten where the meaning is certain, else a ``# layer-migrate: <rule>`` marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import libcst as cst

from ..facts import FieldFact, PatchOpFact, RouteFact
from ..identity import BotDirectory, default_bot_user_id
from .collect import BODY_KWS, CallSite, Collected, _unwrap_dumps
from .cstutil import (
    PLACEHOLDER,
    dict_items,
    dict_keys,
    dotted_name,
    get_item,
    is_dict_like,
    make_str,
    replace_item,
    str_value,
    url_text,
)
from .facts_table import FactIndex
from .identity_expr import IdentityBuilder, already_identity

MARKER_PREFIX = "# layer-migrate:"
PATCH_CT = "application/vnd.layer-patch+json"
_NOTIFICATION_KEYS = {"text", "sound", "title", "category", "title-loc-key", "title-loc-args",
                      "loc-key", "loc-args", "action-loc-key", "apns", "data", "recipients"}
_PATCH_KEYS = {"operation", "property", "value", "id", "index"}

R_PARTICIPANTS_READ = "v2.participants.basic_identity"
R_STATUS_READ = "v2.recipient_status.keys"
R_SENDER_READ = "v2.sender.basic_identity"


@dataclass
class Event:
    rule: str
    kind: str  # "rewritten" | "marked"


@dataclass
class FileContext:
    layer_file: bool
    webhook_file: bool


def _literal_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1:
        return None
    sl = node.slice[0].slice
    if isinstance(sl, cst.Index):
        return str_value(sl.value)
    return None


def _is_key_read(node: cst.BaseExpression, key: str) -> bool:
    """``x["key"]`` or ``x.get("key")`` (not the ``get`` call of an HTTP client)."""
    if isinstance(node, cst.Subscript):
        return _literal_key(node) == key
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        return bool(node.args) and str_value(node.args[0].value) == key
    return False


def _iter(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` safe as a comprehension's ``in`` clause (``x if c else y`` needs parentheses)."""
    if isinstance(expr, (cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Yield)) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def _comp_for(target: str, iterable: cst.BaseExpression) -> cst.CompFor:
    return cst.CompFor(target=cst.Name(target), iter=_iter(iterable))


def _user_ids_of(iterable: cst.BaseExpression) -> cst.ListComp:
    """``[p["user_id"] for p in <iterable>]`` — v1's list of user ids from BasicIdentity objects."""
    return cst.ListComp(
        elt=cst.Subscript(value=cst.Name("p"), slice=[cst.SubscriptElement(cst.Index(make_str("user_id")))]),
        for_in=_comp_for("p", iterable),
    )


def _is_user_ids_comp(node: cst.BaseExpression) -> bool:
    """A comprehension that already takes ``["user_id"]`` of each element (our own output, or
    code written for 2.0)."""
    if not isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return False
    elt, target = node.elt, node.for_in.target
    return (isinstance(target, cst.Name) and isinstance(elt, (cst.Subscript, cst.Call))
            and _is_key_read(elt, "user_id")
            and isinstance(elt.value if isinstance(elt, cst.Subscript) else elt.func.value, cst.Name)
            and (elt.value if isinstance(elt, cst.Subscript) else elt.func.value).value == target.value)


def _comma(ws: str = " ") -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(ws))


class Rewriter(cst.CSTTransformer):
    def __init__(self, index: FactIndex, collected: Collected, builder: IdentityBuilder,
                 bots: BotDirectory | None, ctx: FileContext, skip: set[int] | None = None) -> None:
        super().__init__()
        self.skip = skip or set()
        self.index = index
        self.col = collected
        self.ids = builder
        self.bots = bots
        self.ctx = ctx
        self.events: list[Event] = []
        self.bots_used: dict[str, str] = {}
        self._stmt_markers: list[list[str]] = []
        self._list_children: set[int] = set()
        self._sender_names: set[str] = set()
        self._status_names: set[str] = set()
        self._marked_names: set[int] = set()
        self._scopes: list[int] = [0]
        builder.resolve = lambda name: collected.value_of(self._scopes[-1], name)
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
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._stmt_markers.append([])
            if id(node) in self.skip:  # nothing to rewrite in there (api.prune)
                return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        result = super().on_leave(original_node, updated_node)
        if isinstance(original_node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            markers = self._stmt_markers.pop()
            if markers and isinstance(result, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) \
                    and hasattr(result, "leading_lines"):
                existing = {ln.comment.value for ln in result.leading_lines if ln.comment is not None}
                new = [cst.EmptyLine(indent=True, comment=cst.Comment(m)) for m in markers if m not in existing]
                if new:
                    result = result.with_changes(leading_lines=[*result.leading_lines, *new])
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
                rule = "hdr.accept.v3" if self.index.target == "3.0" else "hdr.accept.v2"
                if self.index.enabled(rule):
                    self._mark(rule, f"the Accept version comes from an expression: make it {self.index.target}")
        return updated_node

    # ---- request bodies (FieldFact) ---------------------------------------------------------
    def _infer_endpoint(self, node: cst.BaseExpression) -> str | None:
        """The endpoint a v1 body is for, from its exact key shape (Layer files only)."""
        if not self.ctx.layer_file or self.ctx.webhook_file:
            return None
        keys = dict_keys(node)
        if None in keys or not keys:
            return None
        if "participants" in keys and keys <= {"participants", "distinct", "metadata"}:
            return "conversations.create"
        if {"sender", "parts"} <= keys:
            if "recipients" in keys and keys <= {"recipients", "sender", "parts", "notification"}:
                return "announcements.send"
            if keys <= {"sender", "parts", "notification", "schedule"}:
                return "messages.send"
        if keys == {"recipients", "notification"}:
            return "notifications.send"
        if "recipients" in keys and keys <= _NOTIFICATION_KEYS and len(keys) > 1:
            rec = get_item(node, "recipients")
            if rec and rec.value is not None and self._looks_like_overrides(rec.value):
                return "notification"
        return None

    @staticmethod
    def _looks_like_overrides(value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.DictComp):
            return is_dict_like(value.value)
        if isinstance(value, cst.ListComp):
            return is_dict_like(value.elt) and "user_id" in dict_keys(value.elt)
        if isinstance(value, cst.Dict):
            return bool(value.elements) and all(
                isinstance(e, cst.DictElement) and is_dict_like(e.value) for e in value.elements)
        if isinstance(value, cst.List):
            return bool(value.elements) and all(
                is_dict_like(e.value) and "user_id" in dict_keys(e.value) for e in value.elements)
        return False

    def _body(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        endpoint = self.col.body_endpoints.get(id(original)) or self._infer_endpoint(updated)
        if endpoint is None:
            return updated
        if endpoint == "notification":
            fact = self._overrides_fact()
            if fact is None:
                return updated
            return self._overrides_in(updated, fact)
        for fact in self.index.fields.get(endpoint, []):
            updated = self._apply(updated, fact)
        return updated

    def _overrides_fact(self) -> FieldFact | None:
        for facts in self.index.fields.values():
            for f in facts:
                if f.action == "recipient_overrides":
                    return f
        return None

    def _apply(self, node: cst.BaseExpression, fact: FieldFact) -> cst.BaseExpression:
        if not is_dict_like(node):
            return node
        head, _, rest = fact.path.partition(".")
        if fact.action == "identity_id" and head.endswith("[]") and not rest:
            item = get_item(node, head[:-2])
            if item is None or item.value is None:
                return node
            new = self._map_ids(item.value, fact.rule)
            return node if new is item.value else replace_item(node, item.index, None, new)
        if fact.action in ("identity_id", "bot_identity") and rest and fact.to:
            item = get_item(node, head)
            if item is None or item.value is None:
                return node
            inner = item.value
            if not is_dict_like(inner):
                if fact.action == "identity_id":  # one marker for a sender built elsewhere
                    self._mark(fact.rule, f"'{head}' is built elsewhere: send '{fact.to}' = identity id "
                                          f"of the user (or of the bot for a v1 {head}.name) instead")
                return node
            sub = get_item(inner, rest)
            if sub is None or sub.value is None:
                return node
            if len(dict_items(inner)) != 1:
                self._mark(fact.rule, f"'{head}' has more than '{rest}': send only '{fact.to}'")
                return node
            if fact.action == "identity_id":
                self._done(fact.rule)
                return replace_item(node, item.index, fact.to, self.ids.wrap(sub.value))
            return self._bot_sender(node, item.index, sub.value, fact)
        if fact.action == "recipient_overrides":
            return self._overrides_in(node, fact)
        return node

    def _map_ids(self, value: cst.BaseExpression, rule: str) -> cst.BaseExpression:
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            changed = False
            elements = []
            for el in value.elements:
                if isinstance(el, cst.StarredElement):
                    if isinstance(el.value, (cst.ListComp, cst.List)):
                        new_inner = self._map_ids(el.value, rule)
                        changed |= new_inner is not el.value
                        elements.append(el.with_changes(value=new_inner))
                    else:
                        new_inner = self._map_ids(el.value, rule)
                        changed |= new_inner is not el.value
                        elements.append(el.with_changes(value=new_inner))
                    continue
                new = self.ids.wrap(el.value)
                if new is not el.value:
                    changed = True
                    self._done(rule)
                elements.append(el.with_changes(value=new))
            return value.with_changes(elements=elements) if changed else value
        if isinstance(value, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            new = self.ids.wrap(value.elt)
            if new is value.elt:
                return value
            self._done(rule)
            return value.with_changes(elt=new)
        if isinstance(value, cst.IfExp):  # map each branch: `[...] if c else [...]`
            body, orelse = self._map_ids(value.body, rule), self._map_ids(value.orelse, rule)
            if body is value.body and orelse is value.orelse:
                return value
            return value.with_changes(body=body, orelse=orelse)
        if str_value(value) is not None or self.ids.known_identity_list(value):
            return value  # a single string where a list is expected, or ids already (half-migrated)
        self._done(rule)
        return cst.ListComp(elt=self.ids.wrap(cst.Name("u")), for_in=_comp_for("u", value))

    def _bot_sender(self, node: cst.BaseExpression, index: int, name_node: cst.BaseExpression,
                    fact: FieldFact) -> cst.BaseExpression:
        if id(name_node) in self._marked_names:  # another rule already marked this sender
            return node
        name = str_value(name_node)
        if name is None:
            self._marked_names.add(id(name_node))
            self._mark(fact.rule, "sender.name is computed: map the bot name to a bot user id and send "
                                  "sender_id = its identity id (the bot identity must exist)")
            return node
        uid = self.bots.mapping.get(name) if self.bots is not None else None
        if uid is None:
            self._marked_names.add(id(name_node))
            self._mark(fact.rule, f"no bot mapping for sender.name {name!r}: pass --bot-map "
                                  f"(default bot user id would be {default_bot_user_id(name)!r}) and "
                                  f"create the bot identity")
            return node
        self.bots_used[name] = uid
        self._done(fact.rule)
        return replace_item(node, index, fact.to, self.ids.wrap(make_str(uid)))

    def _overrides_in(self, node: cst.BaseExpression, fact: FieldFact) -> cst.BaseExpression:
        """``notification.recipients`` (R26); ``node`` is the body or the notification itself."""
        notif_item = get_item(node, "notification")
        if notif_item is not None and notif_item.value is not None:
            if not is_dict_like(notif_item.value):
                return node  # a notification built elsewhere is rewritten where it is built
            new_notif = self._overrides_in(notif_item.value, fact)
            return node if new_notif is notif_item.value else replace_item(node, notif_item.index, None, new_notif)
        rec = get_item(node, "recipients")
        if rec is None or rec.value is None or "text" not in dict_keys(node) and "sound" not in dict_keys(node) \
                and not self._looks_like_overrides(rec.value) and not isinstance(rec.value, (cst.Name, cst.Call)):
            return node
        new = self._overrides(rec.value, fact.rule)
        return node if new is rec.value else replace_item(node, rec.index, None, new)

    def _overrides(self, value: cst.BaseExpression, rule: str) -> cst.BaseExpression:
        if isinstance(value, cst.Dict):  # shape (a): {user_id: {...}}
            elements = []
            for el in value.elements:
                if not isinstance(el, cst.DictElement):
                    self._mark(rule, "per-recipient overrides use ** spreading: rewrite as "
                                     "[{'recipient': identity id, ...}]")
                    return value
                rid = self.ids.wrap(el.key)
                first = cst.DictElement(make_str("recipient"), rid, comma=_comma())
                if isinstance(el.value, cst.Dict):
                    inner: cst.BaseExpression = el.value.with_changes(elements=[first, *el.value.elements])
                else:
                    inner = cst.Dict(elements=[first, cst.StarredDictElement(el.value)])
                elements.append(cst.Element(inner, comma=el.comma))
            self._done(rule)
            return cst.List(elements=elements,
                            lbracket=cst.LeftSquareBracket(whitespace_after=value.lbrace.whitespace_after),
                            rbracket=cst.RightSquareBracket(whitespace_before=value.rbrace.whitespace_before),
                            lpar=value.lpar, rpar=value.rpar)
        if isinstance(value, cst.DictComp):  # shape (a) built by a comprehension
            rid = cst.DictElement(make_str("recipient"), self.ids.wrap(value.key), comma=_comma())
            if isinstance(value.value, cst.Dict):
                elt: cst.BaseExpression = value.value.with_changes(elements=[rid, *value.value.elements])
            else:
                elt = cst.Dict(elements=[rid, cst.StarredDictElement(value.value)])
            self._done(rule)
            return cst.ListComp(elt=elt, for_in=value.for_in, lbracket=cst.LeftSquareBracket(
                whitespace_after=value.lbrace.whitespace_after), rbracket=cst.RightSquareBracket(
                whitespace_before=value.rbrace.whitespace_before), lpar=value.lpar, rpar=value.rpar)
        if isinstance(value, cst.ListComp) and is_dict_like(value.elt):  # shape (b) by a comprehension
            item = get_item(value.elt, "user_id")
            if item is None or item.value is None:
                return value
            self._done(rule)
            return value.with_changes(elt=replace_item(value.elt, item.index, "recipient", self.ids.wrap(item.value)))
        if isinstance(value, cst.List):  # shape (b): [{"user_id": u, ...}]
            changed = False
            elements = []
            for el in value.elements:
                v = el.value
                if is_dict_like(v):
                    item = get_item(v, "user_id")
                    if item is not None and item.value is not None:
                        v = replace_item(v, item.index, "recipient", self.ids.wrap(item.value))
                        changed = True
                elif not isinstance(el, cst.StarredElement):
                    self._mark(rule, "per-recipient override built elsewhere: use 'recipient' = identity id")
                elements.append(el.with_changes(value=v))
            if changed:
                self._done(rule)
                return value.with_changes(elements=elements)
            return value
        self._mark(rule, "per-recipient overrides built elsewhere: 2.0 wants "
                         "[{'recipient': identity id, ...}] (v1 map or user_id list no longer work)")
        return value

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
            # remember `sender = msg["sender"]` (R24 markers), `status = msg["recipient_status"]` (R25)
            for names, key in ((self._sender_names, "sender"), (self._status_names, "recipient_status")):
                if _is_key_read(updated_node.value, key):
                    names.add(target.value)
                else:
                    names.discard(target.value)
            if self._participants_read(updated_node.value):  # `users = conv["participants"]` (R15)
                self._done(R_PARTICIPANTS_READ)
                return updated_node.with_changes(value=_user_ids_of(updated_node.value))
        if isinstance(target, cst.Subscript) and _literal_key(target) == "recipients" \
                and self._looks_like_overrides(updated_node.value):
            fact = self._overrides_fact()
            if fact is not None:
                new = self._overrides(updated_node.value, fact.rule)
                if new is not updated_node.value:
                    return updated_node.with_changes(value=new)
        return updated_node

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.BaseExpression:
        result = self._patch_op(original_node, updated_node)
        if result is not updated_node:
            return result
        return self._body(original_node, updated_node)

    # ---- Layer-Patch operations (PatchOpFact) --------------------------------------------------
    def _patch_facts(self, node: cst.BaseExpression) -> tuple[str, str, list[PatchOpFact]] | None:
        keys = dict_keys(node)
        if not {"operation", "property"} <= keys or not keys <= _PATCH_KEYS:
            return None
        if not self.ctx.layer_file or self.ctx.webhook_file:
            return None
        op = str_value(get_item(node, "operation").value)  # type: ignore[union-attr]
        prop = str_value(get_item(node, "property").value)  # type: ignore[union-attr]
        if op is None or prop is None:
            return None
        facts = self.index.patch_ops.get(prop, [])
        return (op, prop, facts) if facts else None

    def _patch_op(self, original: cst.BaseExpression, node: cst.BaseExpression) -> cst.BaseExpression:
        found = self._patch_facts(node)
        if found is None:
            return node
        op, prop, facts = found
        value = get_item(node, "value")
        if op in ("add", "remove") and value is not None and value.value is not None \
                and "id" not in dict_keys(node):
            fact = next((f for f in facts if f.action == "value_to_id"), None)
            if fact is None:
                return node
            self._done(fact.rule)
            return replace_item(node, value.index, "id", self.ids.wrap(value.value))
        if op == "set" and value is not None and value.value is not None:
            fact = next((f for f in facts if f.action == "set_to_clear_and_add"), None)
            if fact is None or (isinstance(value.value, cst.List) and not value.value.elements):
                return node
            if id(original) not in self._list_children:
                self._mark(fact.rule, f"'set' on {prop} can only clear in 2.0: send set [] then one "
                                      f"'add' with 'id' per user")
        return node

    def visit_List(self, node: cst.List) -> None:
        for el in node.elements:
            self._list_children.add(id(el.value))

    def leave_List(self, original_node: cst.List, updated_node: cst.List) -> cst.BaseExpression:
        elements: list[cst.BaseElement] = []
        changed = False
        for el in updated_node.elements:
            found = self._patch_facts(el.value) if is_dict_like(el.value) else None
            value = get_item(el.value, "value") if found else None
            if not found or found[0] != "set" or value is None or value.value is None:
                elements.append(el)
                continue
            fact = next((f for f in found[2] if f.action == "set_to_clear_and_add"), None)
            v = value.value
            if fact is None or (isinstance(v, cst.List) and not v.elements):
                elements.append(el)
                continue
            prop = found[1]
            cleared = replace_item(el.value, value.index, None, cst.List(elements=[]))
            sep = _list_separator(updated_node)
            elements.append(el.with_changes(value=cleared, comma=sep))
            if isinstance(v, (cst.List, cst.Tuple)) and not any(isinstance(x, cst.StarredElement) for x in v.elements):
                for x in v.elements:
                    elements.append(cst.Element(self._add_op(prop, self.ids.wrap(x.value), el.value), comma=sep))
            else:
                comp = cst.ListComp(elt=self._add_op(prop, self.ids.wrap(cst.Name("u")), el.value),
                                    for_in=_comp_for("u", v))
                elements.append(cst.StarredElement(comp, comma=sep))
            last = elements[-1]
            elements[-1] = last.with_changes(comma=el.comma)
            changed = True
            self._done(fact.rule)
        return updated_node.with_changes(elements=elements) if changed else updated_node

    @staticmethod
    def _add_op(prop: str, ident: cst.BaseExpression, like: cst.BaseExpression) -> cst.BaseExpression:
        quote_like = None
        if isinstance(like, cst.Dict) and like.elements and isinstance(like.elements[0], cst.DictElement) \
                and isinstance(like.elements[0].key, cst.SimpleString):
            quote_like = like.elements[0].key
        pairs = [("operation", make_str("add", quote_like)), ("property", make_str(prop, quote_like)),
                 ("id", ident)]
        if isinstance(like, cst.Call):
            return cst.Call(func=cst.Name("dict"), args=[
                cst.Arg(v, keyword=cst.Name(k), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                        comma=_comma() if i < 2 else cst.MaybeSentinel.DEFAULT)
                for i, (k, v) in enumerate(pairs)])
        return cst.Dict(elements=[cst.DictElement(make_str(k, quote_like), v,
                                                  comma=_comma() if i < 2 else cst.MaybeSentinel.DEFAULT)
                                  for i, (k, v) in enumerate(pairs)])

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

    def _route(self, site: CallSite, call: cst.Call, fact: RouteFact) -> cst.BaseExpression:
        args = list(call.args)
        pos = [i for i, a in enumerate(args) if a.keyword is None and not a.star]
        url_i = pos[0] if site.kind == "verb" else (pos[1] if len(pos) > 1 else None)
        if url_i is None:
            url_i = next((i for i, a in enumerate(args) if a.keyword and a.keyword.value in ("url", "path")), None)
        if url_i is None:
            self._mark(fact.rule, "cannot locate the URL argument: rewrite to PATCH manually")
            return call
        if isinstance(args[url_i].value, cst.Name) and id(site.call) in self._stripped:
            stripped: tuple[cst.BaseExpression, cst.BaseExpression | None] | None = (
                args[url_i].value, self._stripped[id(site.call)])
        else:
            stripped = _strip_blocks(args[url_i].value, fact.body_op == "remove")
        if stripped is None:
            self._mark(fact.rule, f"{site.method} {site.match.endpoint.template} is gone in 2.0: call "
                                  f"{fact.to_method} /apps/:app/users/:owner with "
                                  f"[{{'operation': '{fact.body_op}', 'property': '{fact.property}', "
                                  f"'id': <identity id>}}] and Content-Type {fact.content_type}")
            return call
        new_url, blocked = stripped
        # the blocked user
        body_i = None
        if fact.user_from.startswith("path."):
            user = blocked
        else:
            body_i = next((i for i, a in enumerate(args) if a.keyword and a.keyword.value in BODY_KWS), None)
            if body_i is None and site.kind != "verb" and len(pos) > 2:
                body_i = pos[2]
            if body_i is None:
                self._mark(fact.rule, "block request without a body: add [{'operation': 'add', 'property': "
                                      "'blocks', 'id': <identity id>}]")
                return call
            body = _unwrap_dumps(args[body_i].value)
            item = get_item(body, "user_id") if is_dict_like(body) else None
            if item is not None and item.value is not None:
                user = item.value
            else:
                user = cst.Subscript(value=body, slice=[cst.SubscriptElement(cst.Index(make_str("user_id")))])
        if user is None:
            self._mark(fact.rule, "cannot find the blocked user: rewrite to PATCH manually")
            return call
        op = cst.Dict(elements=[
            cst.DictElement(make_str("operation"), make_str(fact.body_op), comma=_comma()),
            cst.DictElement(make_str("property"), make_str(fact.property), comma=_comma()),
            cst.DictElement(make_str("id"), self.ids.wrap(user)),
        ])
        new_body: cst.BaseExpression = cst.List(elements=[cst.Element(op)])
        args[url_i] = args[url_i].with_changes(value=new_url)
        if body_i is not None:
            old = args[body_i].value
            if old is not _unwrap_dumps(old) and isinstance(old, cst.Call):
                new_body = old.with_changes(args=[old.args[0].with_changes(value=new_body), *old.args[1:]])
            args[body_i] = args[body_i].with_changes(value=new_body)
        elif site.kind == "helper":
            if len(pos) == 2 and pos[1] == len([a for a in args if a.keyword is None]) - 1:
                args.insert(pos[1] + 1, cst.Arg(new_body, comma=args[pos[1]].comma))
                args[pos[1]] = args[pos[1]].with_changes(comma=_comma())
            else:
                self._mark(fact.rule, "add the Layer-Patch body to this call")
                return call
        else:
            body_i = url_i + 1
            args.insert(body_i, cst.Arg(new_body, keyword=cst.Name("json"), comma=_arg_comma(args[url_i]),
                                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        # method
        func = call.func
        if site.kind == "verb":
            assert isinstance(func, cst.Attribute)
            func = func.with_changes(attr=cst.Name(fact.to_method.lower()))
        else:
            m_i = pos[0]
            old_m = args[m_i].value
            raw = str_value(old_m) or ""
            new_m = fact.to_method if raw.isupper() else fact.to_method.lower()
            args[m_i] = args[m_i].with_changes(value=make_str(new_m, old_m if isinstance(old_m, cst.SimpleString) else None))
        # content type
        h_i = next((i for i, a in enumerate(args) if a.keyword and a.keyword.value == "headers"), None)
        ct = make_str(fact.content_type)
        if h_i is not None:
            args[h_i] = args[h_i].with_changes(value=_with_content_type(args[h_i].value, ct))
        elif site.kind in ("verb", "request"):
            at = (body_i if body_i is not None else url_i) + 1
            args.insert(at, cst.Arg(cst.Dict(elements=[cst.DictElement(make_str("Content-Type"), ct)]),
                                    keyword=cst.Name("headers"), comma=_arg_comma(args[url_i]),
                                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        else:
            self._mark(fact.rule, f"make sure this helper sends Content-Type: {fact.content_type} for PATCH")
        self._done(fact.rule)
        self._routed.append(fact)
        if call.args and args[-1] is not call.args[-1]:  # an inserted argument ended up last
            last_comma = call.args[-1].comma
            between = next((a.comma for a in call.args[:-1] if isinstance(a.comma, cst.Comma)), _comma())
            args = [a.with_changes(comma=between) if a.comma is last_comma else a for a in args[:-1]] + \
                [args[-1].with_changes(comma=last_comma)]
        args = _fix_commas(args)
        return call.with_changes(func=func, args=args)

    def _read_call(self, call: cst.Call) -> cst.BaseExpression:
        if not self.ctx.layer_file or self.ctx.webhook_file:
            return call
        func = call.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr == "get" and (_is_key_read(func.value, "recipient_status") or self._status_name(func.value)) \
                    and call.args \
                    and self.index.enabled(R_STATUS_READ):
                first = call.args[0]
                if not already_identity(first.value) and first.keyword is None:
                    self._done(R_STATUS_READ)
                    return call.with_changes(args=[first.with_changes(value=self.ids.wrap(first.value)), *call.args[1:]])
            if attr in ("items", "keys") and (_is_key_read(func.value, "recipient_status") or self._status_name(func.value)) \
                    and self.index.enabled(R_STATUS_READ):
                self._mark(R_STATUS_READ, "recipient_status keys are identity ids in 2.0: user id = "
                                          "unquote(key[len('layer:///identities/'):])")
            if attr == "get" and call.args and str_value(call.args[0].value) == "name" \
                    and (_is_key_read(func.value, "sender") or (isinstance(func.value, cst.Name)
                                                                 and func.value.value in self._sender_names)) \
                    and self.index.enabled(R_SENDER_READ):
                self._mark(R_SENDER_READ, "sender is a BasicIdentity in 2.0: a v1 sender.name (bot) is "
                                          "sender['display_name']; users have display names too")
        if isinstance(func, cst.Name) and func.value in ("set", "sorted", "list", "frozenset", "tuple") \
                and len(call.args) == 1 and self._participants_read(call.args[0].value):
            arg = call.args[0]
            self._done(R_PARTICIPANTS_READ)
            if func.value == "list":  # list(conv["participants"]) → the comprehension itself
                return _user_ids_of(arg.value).with_changes(lpar=call.lpar, rpar=call.rpar)
            return call.with_changes(args=[arg.with_changes(value=_user_ids_of(arg.value))])
        return call

    # ---- response reads ----------------------------------------------------------------------
    def _participants_read(self, node: cst.BaseExpression) -> bool:
        return (self.ctx.layer_file and not self.ctx.webhook_file and self.index.enabled(R_PARTICIPANTS_READ)
                and _is_key_read(node, "participants"))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if not self.ctx.layer_file or self.ctx.webhook_file:
            return updated_node
        inner = updated_node.value
        if (_is_key_read(inner, "recipient_status") or self._status_name(inner)) and len(updated_node.slice) == 1 \
                and self.index.enabled(R_STATUS_READ):
            el = updated_node.slice[0]
            if isinstance(el.slice, cst.Index) and not already_identity(el.slice.value):
                self._done(R_STATUS_READ)
                return updated_node.with_changes(slice=[el.with_changes(slice=el.slice.with_changes(
                    value=self.ids.wrap(el.slice.value)))])
        if _literal_key(updated_node) == "name" and (_is_key_read(inner, "sender") or (
                isinstance(inner, cst.Name) and inner.value in self._sender_names)) \
                and self.index.enabled(R_SENDER_READ):
            self._mark(R_SENDER_READ, "sender is a BasicIdentity in 2.0: a v1 sender.name (bot) is "
                                      "sender['display_name']; users have display names too")
        return updated_node

    def _status_name(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value in self._status_names

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sender_names = set()
        self._status_names = set()
        self._routed = []
        self._scopes.append(id(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.BaseStatement:
        if self._scopes and self._scopes[-1] == id(original_node):
            self._scopes.pop()
        return updated_node

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement:
        if self._participants_read(updated_node.iter):
            self._done(R_PARTICIPANTS_READ)
            return updated_node.with_changes(iter=_user_ids_of(updated_node.iter))
        return updated_node

    def _comp(self, updated_node):  # type: ignore[no-untyped-def]
        if _is_user_ids_comp(updated_node):
            return updated_node
        cf = updated_node.for_in
        if self._participants_read(cf.iter):
            self._done(R_PARTICIPANTS_READ)
            return updated_node.with_changes(for_in=cf.with_changes(iter=_user_ids_of(cf.iter)))
        return updated_node

    def leave_ListComp(self, original_node: cst.ListComp, updated_node: cst.ListComp) -> cst.BaseExpression:
        return self._comp(updated_node)

    def leave_SetComp(self, original_node: cst.SetComp, updated_node: cst.SetComp) -> cst.BaseExpression:
        return self._comp(updated_node)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp, updated_node: cst.GeneratorExp) -> cst.BaseExpression:
        return self._comp(updated_node)

    def _status_check(self, node: cst.Comparison) -> None:
        """After a rewritten block call, ``resp.status_code == 204`` no longer holds (202)."""
        if not self._routed:
            return
        sides = [node.left, *(c.comparator for c in node.comparisons)]
        has_status = any(isinstance(x, cst.Attribute) and x.attr.value in ("status_code", "status") for x in sides)
        for fact in self._routed:
            old = fact.status_map[0] if fact.status_map else None
            if has_status and old is not None and any(
                    isinstance(x, cst.Integer) and x.evaluated_value == old for x in sides):
                self._mark(fact.rule, f"the {fact.to_method} answers {fact.status_map[1]} Accepted "  # type: ignore[index]
                                      f"(applied asynchronously) where v1 answered {old}")
                return

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        self._status_check(updated_node)
        changed = False
        left = updated_node.left
        targets = []
        for ct in updated_node.comparisons:
            comp = ct.comparator
            if isinstance(ct.operator, (cst.In, cst.NotIn, cst.Equal, cst.NotEqual)) and self._participants_read(comp):
                comp = _user_ids_of(comp)
                changed = True
            targets.append(ct.with_changes(comparator=comp))
        if len(updated_node.comparisons) == 1 and isinstance(updated_node.comparisons[0].operator, (cst.Equal, cst.NotEqual)) \
                and self._participants_read(left):
            left = _user_ids_of(left)
            changed = True
        if changed:
            self._done(R_PARTICIPANTS_READ)
            return updated_node.with_changes(left=left, comparisons=targets)
        return updated_node


# ---- URL surgery for the block-list routes (R38/R39) ------------------------------------------
_CREATE_TAIL = re.compile(r"/blocks/?$")
_DELETE_TAIL = re.compile(r"/blocks/([^/]+)/?$")


def _unquote_call(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Call) and node.args and dotted_name(node.func).rsplit(".", 1)[-1] in (
            "quote", "quote_plus", "path_user_id", "escape"):
        return node.args[0].value
    return node


def _split_query(text: str) -> tuple[str, str]:
    i = text.find("?")
    return (text, "") if i < 0 else (text[:i], text[i:])


def _strip_blocks(node: cst.BaseExpression, delete: bool) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """The URL without ``/blocks`` (create) or ``/blocks/<user>`` (delete), and the user expression."""
    value = str_value(node)
    if value is not None and isinstance(node, cst.SimpleString):
        path, query = _split_query(value)
        rx = _DELETE_TAIL if delete else _CREATE_TAIL
        m = rx.search(path)
        if not m:
            return None
        blocked = make_str(unquote(m.group(1)), node) if delete else None
        return make_str(path[: m.start()] + query, node), blocked
    if isinstance(node, cst.FormattedString):
        parts = list(node.parts)
        if delete and len(parts) >= 2 and isinstance(parts[-1], cst.FormattedStringExpression) \
                and isinstance(parts[-2], cst.FormattedStringText) and parts[-2].value.endswith("/blocks/"):
            blocked = _unquote_call(parts[-1].expression)
            text = parts[-2].value[: -len("/blocks/")]
            parts = parts[:-2] + ([parts[-2].with_changes(value=text)] if text else [])
            return node.with_changes(parts=parts), blocked
        if parts and isinstance(parts[-1], cst.FormattedStringText):
            rx = _DELETE_TAIL if delete else _CREATE_TAIL
            m = rx.search(parts[-1].value)
            if m:
                blocked = make_str(unquote(m.group(1))) if delete else None
                text = parts[-1].value[: m.start()]
                parts = parts[:-1] + ([parts[-1].with_changes(value=text)] if text else [])
                return node.with_changes(parts=parts), blocked
        return None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        right = node.right
        rv = str_value(right)
        if rv is not None:
            rx = _DELETE_TAIL if delete else _CREATE_TAIL
            m = rx.search(rv)
            if m:
                blocked = make_str(unquote(m.group(1))) if delete else None
                rest = rv[: m.start()]
                if not rest:
                    return node.left, blocked
                return node.with_changes(right=make_str(rest, right if isinstance(right, cst.SimpleString) else None)), blocked
            return None
        if delete and isinstance(node.left, cst.BinaryOperation) and isinstance(node.left.operator, cst.Add):
            lv = str_value(node.left.right)
            if lv is not None and lv.endswith("/blocks/"):
                rest = lv[: -len("/blocks/")]
                base = node.left.left if not rest else node.left.with_changes(
                    right=make_str(rest, node.left.right if isinstance(node.left.right, cst.SimpleString) else None))
                return base, _unquote_call(right)
        if delete:
            lv = str_value(node.left)
            if lv is not None and lv.endswith("/blocks/"):
                return make_str(lv[: -len("/blocks/")], node.left if isinstance(node.left, cst.SimpleString) else None), \
                    _unquote_call(right)
        return None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        fmt = str_value(node.left)
        if fmt is None:
            return None
        if not delete:
            if _CREATE_TAIL.search(fmt):
                return node.with_changes(left=make_str(_CREATE_TAIL.sub("", fmt), node.left)), None  # type: ignore[arg-type]
            return None
        if not re.search(r"/blocks/%s/?$", fmt):
            return None
        new_fmt = re.sub(r"/blocks/%s/?$", "", fmt)
        right = node.right
        if isinstance(right, cst.Tuple) and len(right.elements) >= 2:
            elements = list(right.elements[:-1])
            blocked = _unquote_call(right.elements[-1].value)
            if len(elements) == 1:
                elements[0] = elements[0].with_changes(comma=cst.Comma())
            else:
                elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return node.with_changes(left=make_str(new_fmt, node.left), right=right.with_changes(elements=elements)), blocked  # type: ignore[arg-type]
        if "%" not in new_fmt:
            target = right.elements[0].value if isinstance(right, cst.Tuple) else right
            return make_str(new_fmt, node.left), _unquote_call(target)  # type: ignore[arg-type]
        return None
    if isinstance(node, cst.Call):
        for i in range(len(node.args) - 1, -1, -1):
            text = url_text(node.args[i].value)
            if text is not None and "/blocks" in text.replace(PLACEHOLDER, "x"):
                res = _strip_blocks(node.args[i].value, delete)
                if res is None:
                    return None
                args = list(node.args)
                args[i] = args[i].with_changes(value=res[0])
                return node.with_changes(args=args), res[1]
    return None


def _with_content_type(headers: cst.BaseExpression, ct: cst.SimpleString) -> cst.BaseExpression:
    if isinstance(headers, cst.Dict) and all(isinstance(e, cst.DictElement) for e in headers.elements):
        elements = list(headers.elements)
        for i, el in enumerate(elements):
            key = str_value(el.key)  # type: ignore[union-attr]
            if key is not None and key.lower() == "content-type":
                elements[i] = el.with_changes(value=ct)  # type: ignore[union-attr]
                return headers.with_changes(elements=elements)
        if elements and not isinstance(elements[-1].comma, cst.Comma):
            elements[-1] = elements[-1].with_changes(comma=_comma())
        elements.append(cst.DictElement(make_str("Content-Type"), ct))
        return headers.with_changes(elements=elements)
    return cst.Dict(elements=[cst.StarredDictElement(headers, comma=_comma()),
                              cst.DictElement(make_str("Content-Type"), ct)])


def _list_separator(node: cst.List) -> cst.Comma:
    """A comma that keeps the list's layout: one element per line if it already is."""
    for el in node.elements:
        if isinstance(el.comma, cst.Comma) and isinstance(el.comma.whitespace_after, cst.ParenthesizedWhitespace):
            return el.comma
    if isinstance(node.lbracket.whitespace_after, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=node.lbracket.whitespace_after)
    return _comma()


def _arg_comma(like: cst.Arg) -> cst.Comma:
    return like.comma if isinstance(like.comma, cst.Comma) else _comma()


def _fix_commas(args: list[cst.Arg]) -> list[cst.Arg]:
    """Every argument but the last needs a comma after edits that insert or append arguments."""
    out = []
    for i, a in enumerate(args):
        if i < len(args) - 1 and not isinstance(a.comma, cst.Comma):
            a = a.with_changes(comma=_comma())
        out.append(a)
    return out
