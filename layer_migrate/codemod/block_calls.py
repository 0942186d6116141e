"""Block-list POST/DELETE calls become the 2.0 PATCH (RouteFact: R38/R39) — method, URL, body
and content type, for requests/httpx/aiohttp and ``helper("POST", url, body)`` wrappers.
A mixin of :class:`.transform.Rewriter`, using its state."""

from __future__ import annotations

import libcst as cst

from ..facts import RouteFact
from .blockurl import (
    _strip_blocks,
    _with_content_type,
)
from .collect import BODY_KWS, CallSite, _unwrap_dumps
from .cstutil import (
    get_item,
    is_dict_like,
    make_str,
    str_value,
)
from .nodes import (
    _arg_comma,
    _comma,
    _fix_commas,
)


class BlockCallRewrites:
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
