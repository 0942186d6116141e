"""Reads of response fields whose shape changed (R15, R24, R25) and status checks after a block
call (R38/R39) — a mixin of :class:`.transform.Rewriter`, using its state."""

from __future__ import annotations

import libcst as cst

from .cstutil import (
    make_str,
    str_value,
)
from .identity_expr import already_identity
from .nodes import (
    _is_key_read,
    _is_user_ids_comp,
    _literal_key,
    _user_ids_of,
)
from .prelude import is_helper_call

#: response field → generated helper that gives the 1.x shape back (see :mod:`.prelude`)
_READ_HELPERS: tuple[tuple[str, str], ...] = (
    ("participants", "_layer_user_ids"), ("recipients", "_layer_user_ids"),
    ("recipient_status", "_layer_v1_recipient_status"), ("sender", "_layer_v1_sender"))
#: callables whose argument is not handed on as data (builtins that inspect, logging, HTTP bodies)
_NOT_PARSERS = frozenset({"len", "print", "isinstance", "bool", "repr", "id", "hash", "type", "hasattr",
                          "getattr", "set", "sorted", "list", "frozenset", "tuple", "any", "all", "iter"})
_NOT_PARSER_METHODS = frozenset({"get", "post", "put", "patch", "delete", "request", "debug", "info",
                                 "warning", "error", "exception", "critical", "log", "dumps", "assertEqual",
                                 "assertIn"})


def _reads_user_id(comp: cst.CSTNode) -> bool:
    """The comprehension's element already reads ``<target>["user_id"]`` (our output, or code
    written for 2.0): nothing to convert again."""
    cf = getattr(comp, "for_in", None)
    if cf is None or not isinstance(cf.target, cst.Name):
        return False
    finder = _FindUserIdRead(cf.target.value)
    getattr(comp, "elt", comp).visit(finder)
    return finder.found


class _FindUserIdRead(cst.CSTVisitor):
    """Finds ``<name>["user_id"]``. A module-level class: one defined per call is a new class
    object each time, and classes are reference cycles only the garbage collector frees."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name and _literal_key(node) == "user_id":
            self.found = True


def _uses_only_as_value(node: cst.CSTNode, name: str) -> bool:
    """``name`` appears in ``node`` only as a plain load (no nested scope rebinds it)."""
    finder = _NameUses(name)
    node.visit(finder)
    return finder.ok


class _NameUses(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.ok = True

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.ok = False  # a nested scope: leave the simple nested form
        return False

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        self.ok = False
        return False

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self.ok = False
        return False


class _ReplaceName(cst.CSTTransformer):
    def __init__(self, name: str, new: cst.BaseExpression) -> None:
        super().__init__()
        self.name = name
        self.new = new

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # only the object, never the attribute name
        return False

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return updated_node.with_changes(value=original_node.value.visit(self))

    def visit_Arg(self, node: cst.Arg) -> bool:
        return True

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.new if original_node.value == self.name else updated_node


def _replace_name(node: cst.BaseExpression, name: str, new: cst.BaseExpression) -> cst.BaseExpression:
    return node.visit(_ReplaceName(name, new))  # type: ignore[return-value]


class ReadRewrites:
    """Rule ids come from the facts (``FactIndex.read_rule``); None when the rule is not crossed."""

    @property
    def _r_participants(self) -> str | None:
        return self.index.read_rule("participants")

    @property
    def _r_status(self) -> str | None:
        return self.index.read_rule("recipient_status")

    @property
    def _r_sender(self) -> str | None:
        return self.index.read_rule("sender")

    def _read_call(self, call: cst.Call) -> cst.BaseExpression:
        if not self.ctx.layer_file or self.ctx.webhook_file:
            return call
        func = call.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr == "get" and (_is_key_read(func.value, "recipient_status") or self._status_name(func.value)) \
                    and call.args \
                    and self._r_status is not None:
                first = call.args[0]
                if not already_identity(first.value) and first.keyword is None:
                    self._done(self._r_status)
                    return call.with_changes(args=[first.with_changes(value=self.ids.wrap(first.value)), *call.args[1:]])
            if attr in ("items", "keys") and (_is_key_read(func.value, "recipient_status") or self._status_name(func.value)) \
                    and self._r_status is not None:
                self._mark(self._r_status, "recipient_status keys are identity ids in 2.0: user id = "
                                          "unquote(key[len('layer:///identities/'):])")
            if attr == "get" and call.args and str_value(call.args[0].value) == "name" \
                    and _is_key_read(func.value, "sender") and self._r_sender is not None:
                self._done(self._r_sender)  # `msg["sender"].get("name")`: 1.x shape first (R24)
                return call.with_changes(func=func.with_changes(
                    value=self.prelude.call("_layer_v1_sender", func.value)))
            if attr == "get" and call.args and str_value(call.args[0].value) == "name" \
                    and (_is_key_read(func.value, "sender") or (isinstance(func.value, cst.Name)
                                                                 and func.value.value in self._sender_names)) \
                    and self._r_sender is not None:
                self._mark(self._r_sender, "sender is a BasicIdentity in 2.0: a v1 sender.name (bot) is "
                                          "sender['display_name']; users have display names too")
        if isinstance(func, cst.Name) and func.value in ("set", "sorted", "list", "frozenset", "tuple") \
                and len(call.args) == 1 and self._participants_read(call.args[0].value):
            arg = call.args[0]
            self._done(self._r_participants)
            if func.value == "list":  # list(conv["participants"]) → the comprehension itself
                return _user_ids_of(arg.value).with_changes(lpar=call.lpar, rpar=call.rpar)
            return call.with_changes(args=[arg.with_changes(value=_user_ids_of(arg.value))])
        return self._parse_site_args(call)

    def _parse_site_args(self, call: cst.Call) -> cst.Call:
        """``Conversation(d.get("participants"))``, ``Sender.from_dict(d.get("sender"))``: a
        changed response field handed to other code is converted back to its 1.x shape right
        there, so what that code (a library's public objects) receives stays as it was."""
        func = call.func
        if is_helper_call(call) or (isinstance(func, cst.Name) and func.value in _NOT_PARSERS) or (
                isinstance(func, cst.Attribute) and func.attr.value in _NOT_PARSER_METHODS):
            return call
        args = list(call.args)
        changed = False
        for i, arg in enumerate(args):
            if arg.star:
                continue
            for field_name, helper in _READ_HELPERS:
                rule = self.index.read_rule(field_name)
                if rule is not None and _is_key_read(arg.value, field_name):
                    args[i] = arg.with_changes(value=self.prelude.call(helper, arg.value))
                    self._done(rule)
                    changed = True
                    break
        return call.with_changes(args=args) if changed else call

    # ---- response reads ----------------------------------------------------------------------
    def _participants_read(self, node: cst.BaseExpression) -> bool:
        return (self.ctx.layer_file and not self.ctx.webhook_file and self._r_participants is not None
                and _is_key_read(node, "participants"))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if not self.ctx.layer_file or self.ctx.webhook_file:
            return updated_node
        inner = updated_node.value
        if (_is_key_read(inner, "recipient_status") or self._status_name(inner)) and len(updated_node.slice) == 1 \
                and self._r_status is not None:
            el = updated_node.slice[0]
            if isinstance(el.slice, cst.Index) and not already_identity(el.slice.value):
                self._done(self._r_status)
                return updated_node.with_changes(slice=[el.with_changes(slice=el.slice.with_changes(
                    value=self.ids.wrap(el.slice.value)))])
        if _literal_key(updated_node) == "name" and _is_key_read(inner, "sender") and self._r_sender is not None:
            self._done(self._r_sender)  # `msg["sender"]["name"]`: 1.x shape first (R24)
            return updated_node.with_changes(value=self.prelude.call("_layer_v1_sender", inner))
        if _literal_key(updated_node) == "name" and (_is_key_read(inner, "sender") or (
                isinstance(inner, cst.Name) and inner.value in self._sender_names)) \
                and self._r_sender is not None:
            self._mark(self._r_sender, "sender is a BasicIdentity in 2.0: a v1 sender.name (bot) is "
                                      "sender['display_name']; users have display names too")
        return updated_node

    def _status_name(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value in self._status_names

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement:
        if self._participants_read(updated_node.iter):
            self._done(self._r_participants)
            return updated_node.with_changes(iter=_user_ids_of(updated_node.iter))
        return updated_node

    def _comp(self, updated_node):  # type: ignore[no-untyped-def]
        if _is_user_ids_comp(updated_node) or _reads_user_id(updated_node):
            return updated_node
        cf = updated_node.for_in
        if self._participants_read(cf.iter):
            self._done(self._r_participants)
            target = cf.target
            if isinstance(target, cst.Name) and not cf.ifs and cf.inner_for_in is None and not cf.asynchronous:
                # `[p for p in conv["participants"]]` → `[p["user_id"] for p in …]` (not a
                # comprehension over a comprehension); `[f(p) for p in …]` → `p["user_id"]` inside
                key = cst.Subscript(value=cst.Name(target.value),
                                    slice=[cst.SubscriptElement(cst.Index(make_str("user_id")))])
                elt = updated_node.elt
                if isinstance(elt, cst.Name) and elt.value == target.value:
                    return updated_node.with_changes(elt=key)
                if not isinstance(updated_node, cst.DictComp) and _uses_only_as_value(elt, target.value):
                    return updated_node.with_changes(elt=_replace_name(elt, target.value, key))
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
            self._done(self._r_participants)
            return updated_node.with_changes(left=left, comparisons=targets)
        return updated_node
