"""Request bodies (FieldFact: R14, R21, R22, R26, R34, R35, R37) and Layer-Patch operations
(PatchOpFact: R16, R17, R40, R41) — a mixin of :class:`.transform.Rewriter`, using its state."""

from __future__ import annotations

import libcst as cst

from ..facts import FieldFact, PatchOpFact
from ..identity import default_bot_user_id
from ..webhook_events import EVENTS_UP
from .cstutil import (
    dict_items,
    dict_keys,
    get_item,
    is_dict_like,
    make_str,
    replace_item,
    str_value,
)
from .nodes import (
    _NOTIFICATION_KEYS,
    _PATCH_KEYS,
    _comma,
    _comp_for,
    _list_separator,
)
from .prelude import is_helper_call


class PayloadRewrites:
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

    def _webhook_registration(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """With ``--enable wh.rest`` (R53/R50): a registration body asks for the target version's
        payloads and event names — and the receiver must then understand them (marked)."""
        version = get_item(node, "version")
        if version is None or version.value is None or str_value(version.value) != "1.0":
            return node
        target = self.index.target
        node = replace_item(node, version.index, None, make_str(target, version.value
                                                               if isinstance(version.value, cst.SimpleString) else None))
        events = get_item(node, "events")
        if events is not None and isinstance(events.value, (cst.List, cst.Tuple)):
            seen: list[str] = []
            elements = []
            for el in events.value.elements:
                name = str_value(el.value)
                new = EVENTS_UP.get(name or "")
                if new is None:
                    elements.append(el)
                elif new not in seen:
                    seen.append(new)
                    elements.append(el.with_changes(value=make_str(new, el.value if isinstance(
                        el.value, cst.SimpleString) else None)))
            if elements and not isinstance(events.value.elements[-1].comma, cst.Comma):
                elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            node = replace_item(node, events.index, None, events.value.with_changes(elements=elements))
        rule = self.index.webhook_rest or ""
        self._done(rule)
        self._mark(rule, f"this webhook now receives {target} payloads (Type.verb events, "
                              f"BasicIdentity actors): update its receiver, or keep 1.0 behind the proxy")
        return node

    def _body(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        endpoint = self.col.body_endpoints.get(id(original)) or self._infer_endpoint(updated)
        if endpoint == "webhooks.create" or (endpoint is None and self.ctx.layer_file and {
                "version", "target_url", "events"} <= dict_keys(updated)):
            return self._webhook_registration(updated) if self.index.webhook_rest else updated
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
                traced = self._traced_sender(node, item.index, inner, fact)
                if traced is not None:
                    return traced
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
        if str_value(value) is not None or self.ids.known_identity_list(value) or is_helper_call(value):
            return value  # a single string where a list is expected, or ids already (half-migrated)
        # a value built elsewhere: decided at run time (a string is not split into characters,
        # an identity id is not prefixed twice) by a generated helper, see .prelude
        self._done(rule)
        return self.prelude.call("_layer_identity_ids", value)

    def _bot_sender(self, node: cst.BaseExpression, index: int, name_node: cst.BaseExpression,
                    fact: FieldFact) -> cst.BaseExpression:
        if id(name_node) in self._marked_names:  # another rule already marked this sender
            return node
        name = str_value(name_node)
        if name is None and self.bots is not None and self.bots.mapping:
            # a computed bot name (`sender.name`): looked up at run time in a module-level
            # dict written from the bot map (R22/R35)
            self.bots_used.update(self.bots.mapping)
            self._done(fact.rule)
            lookup = cst.Subscript(value=self.prelude.use("_LAYER_BOT_IDS"),
                                   slice=[cst.SubscriptElement(cst.Index(name_node))])
            return replace_item(node, index, fact.to, self.prelude.call("_layer_identity_id", lookup))
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

    def _traced_sender(self, node: cst.BaseExpression, index: int, value: cst.BaseExpression,
                       fact: FieldFact) -> cst.BaseExpression | None:
        """``'sender': sender.as_dict()`` where a same-module method builds a v1 sender
        (``user_id`` and/or ``name``): ``'sender_id': _layer_sender_id(...)`` at this call site.

        The method itself is left alone — it may also build an identity body (see :mod:`.trace`).
        """
        if self.tracer is None or fact.to is None or is_helper_call(value):
            return None
        keys = self.tracer.keys(value)
        if not keys or not keys & {"user_id", "name"}:
            return None
        rules = {f.action: f.rule for f in self.index.fields.get(self._endpoint_of(node), [])
                 if f.path.startswith("sender.")}
        if "name" in keys and not (self.bots is not None and self.bots.mapping):
            self._mark(rules.get("bot_identity", fact.rule),
                       "this sender may be a v1 sender.name: pass --bot-map so the codemod can write "
                       "the bot lookup (the bot identity must exist)")
            return node
        if "name" in keys:
            self.bots_used.update(self.bots.mapping)  # type: ignore[union-attr]
            self._done(rules.get("bot_identity", fact.rule))
        self._done(fact.rule)
        return replace_item(node, index, fact.to, self.prelude.call("_layer_sender_id", value))

    def _endpoint_of(self, node: cst.BaseExpression) -> str:
        return "announcements.send" if "recipients" in dict_keys(node) else "messages.send"

    def _overrides_in(self, node: cst.BaseExpression, fact: FieldFact) -> cst.BaseExpression:
        """``notification.recipients`` (R26); ``node`` is the body or the notification itself."""
        notif_item = get_item(node, "notification")
        if notif_item is not None and notif_item.value is not None:
            if not is_dict_like(notif_item.value):
                return node  # a notification built elsewhere is rewritten where it is built
            new_notif = self._overrides_in(notif_item.value, fact)
            return node if new_notif is notif_item.value else replace_item(node, notif_item.index, None, new_notif)
        if dict_keys(node) & {"sender", "sender_id", "parts"}:
            return node  # a message/announcement body: its `recipients` are not overrides
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
