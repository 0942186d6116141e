"""First pass: find the Layer API calls in a module and what their bodies are built from.

The rewrite pass needs to know, for a dict literal, *which endpoint* it is the body of. Code
builds bodies in many places — inline ``json={...}``, a variable assigned earlier and passed as
``json=body`` or ``data=json.dumps(body)``, a helper function that returns the dict. This visitor
records HTTP call sites (``requests``/``httpx``/``aiohttp`` style ``x.post(url, json=...)``,
``x.request("POST", url, ...)`` and thin ``helper("POST", url, body)`` wrappers), the dicts
assigned to names per function scope and the dicts each function returns, then resolves every
call's body to the dict nodes it came from. Endpoints come from :func:`layer_migrate.routes.match`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from .. import routes
from .cstutil import HTTP_METHODS, dotted_name, is_dict_like, match_url, str_value

#: attribute names that are HTTP verbs on requests/httpx/aiohttp clients and sessions.
VERB_ATTRS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}
BODY_KWS = ("json", "data", "content", "body", "payload")


@dataclass
class CallSite:
    call: cst.Call
    kind: str  # "verb" (x.post), "request" (x.request("POST", ...)), "helper" (f("POST", url, body))
    method: str
    url: cst.BaseExpression
    match: routes.Match
    body: cst.BaseExpression | None
    scope: int  # id of the enclosing function node (0 = module)
    #: when the URL argument is a name assigned once in scope: the assigned expression
    url_source: cst.BaseExpression | None = None


@dataclass
class Collected:
    sites: list[CallSite] = field(default_factory=list)
    #: id(dict node) → endpoint name, for bodies resolved from call sites.
    body_endpoints: dict[int, str] = field(default_factory=dict)
    #: id(call node) → site
    site_by_call: dict[int, CallSite] = field(default_factory=dict)
    #: (id(function) or 0, name) → expressions assigned to it
    assigns: dict[tuple[int, str], list[cst.BaseExpression]] = field(default_factory=dict)
    #: ids of nodes below which the rewriter has nothing to do (see ``Collector.relevant``)
    inert: set[int] = field(default_factory=set)

    def value_of(self, scope: int, name: str) -> cst.BaseExpression | None:
        """The one expression ``name`` is assigned in ``scope`` (else at module level), or None."""
        values = self.assigns.get((scope, name)) or self.assigns.get((0, name)) or []
        return values[0] if len(values) == 1 else None


def _unwrap_dumps(node: cst.BaseExpression) -> cst.BaseExpression:
    """``json.dumps(x)`` / ``orjson.dumps(x)`` → ``x``."""
    if isinstance(node, cst.Call) and dotted_name(node.func).endswith("dumps") and node.args:
        return node.args[0].value
    return node


class Collector(cst.CSTVisitor):
    def __init__(self, skip: set[int] | None = None, relevant: Callable[[cst.CSTNode], bool] | None = None) -> None:
        self.skip = skip or set()
        #: with ``relevant`` (the rewriter's test "might I act on this node?"), :func:`collect` also
        #: records in ``inert`` the ids of nodes below which nothing is relevant
        self.relevant = relevant
        self.inert: set[int] = set()
        self.scopes: list[int] = [0]
        self.assigns: dict[tuple[int, str], list[cst.BaseExpression]] = {}
        self.returns: dict[str, list[cst.BaseExpression]] = {}
        self.funcs: list[str] = []
        self.raw_calls: list[tuple[cst.Call, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.skip:
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if id(original_node) not in self.skip:
            super().on_leave(original_node)

    # scopes
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(id(node))
        self.funcs.append(node.name.value)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self.funcs.pop()

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return True

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self.assigns.setdefault((self.scopes[-1], t.target.value), []).append(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.assigns.setdefault((self.scopes[-1], node.target.value), []).append(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if self.funcs and node.value is not None:
            self.returns.setdefault(self.funcs[-1], []).append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("get", "post", "put", "patch",
                                                                    "delete", "request"):
            self.raw_calls.append((node, self.scopes[-1]))
        elif node.args and str_value(node.args[0].value) is not None and len(node.args) >= 2:
            v = str_value(node.args[0].value)
            if v and v.upper() in HTTP_METHODS:
                self.raw_calls.append((node, self.scopes[-1]))

    # ---- resolution ---------------------------------------------------------------------
    def _names(self, scope: int) -> dict[str, cst.BaseExpression]:
        out: dict[str, cst.BaseExpression] = {}
        for (s, name), values in self.assigns.items():
            if s in (0, scope) and len(values) == 1:
                if s == scope or name not in out:
                    out[name] = values[0]
        return out

    def _site(self, node: cst.Call, scope: int) -> CallSite | None:
        func = node.func
        args = [a for a in node.args if a.keyword is None and not a.star]
        kws = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        names = self._names(scope)
        if isinstance(func, cst.Attribute) and func.attr.value in VERB_ATTRS:
            method = VERB_ATTRS[func.attr.value]
            url = args[0].value if args else kws.get("url")
            kind = "verb"
            body_pos = None
        else:
            raw_method = str_value(args[0].value) if args else kws.get("method") and str_value(kws["method"])
            if not raw_method or raw_method.upper() not in HTTP_METHODS:
                return None
            method = raw_method.upper()
            url = args[1].value if len(args) > 1 else kws.get("url") or kws.get("path")
            kind = "request" if isinstance(func, cst.Attribute) and func.attr.value == "request" else "helper"
            body_pos = 2
        if url is None:
            return None
        m = match_url(method, url, names)
        if m is None:
            return None
        body = None
        for kw in BODY_KWS:
            if kw in kws:
                body = _unwrap_dumps(kws[kw])
                break
        if body is None and body_pos is not None and len(args) > body_pos:
            body = _unwrap_dumps(args[body_pos].value)
        source = names.get(url.value) if isinstance(url, cst.Name) else None
        return CallSite(node, kind, method, url, m, body, scope, source)

    def _body_dicts(self, body: cst.BaseExpression, scope: int, depth: int = 0) -> list[cst.BaseExpression]:
        if depth > 4:
            return []
        if is_dict_like(body) or isinstance(body, cst.List):
            return [body]
        if isinstance(body, cst.Name):
            values = self.assigns.get((scope, body.value)) or self.assigns.get((0, body.value)) or []
            out: list[cst.BaseExpression] = []
            for v in values:
                out.extend(self._body_dicts(v, scope, depth + 1))
            return out
        if isinstance(body, cst.Call):
            name = dotted_name(body.func).rsplit(".", 1)[-1]
            out = []
            for v in self.returns.get(name, []):
                out.extend(self._body_dicts(v, 0, depth + 1))
            return out
        return []

    def result(self) -> Collected:
        col = Collected(assigns=self.assigns)
        for node, scope in self.raw_calls:
            site = self._site(node, scope)
            if site is None:
                continue
            col.sites.append(site)
            col.site_by_call[id(node)] = site
            if site.body is not None:
                for d in self._body_dicts(site.body, scope):
                    col.body_endpoints[id(d)] = site.match.name
        return col


# ---- a read-only walk in libcst's visiting order ---------------------------------------------
# libcst's visitors rebuild every node they pass (``_visit_and_replace_children`` constructs and
# validates a copy even for a read-only CSTVisitor); the collect pass only reads, so it walks the
# tree itself, in the same order, and skips whitespace and punctuation.

#: attributes that only ever hold whitespace, comments or punctuation
_NOISE = frozenset({"lpar", "rpar", "leading_lines", "lines_after_decorators", "trailing_whitespace",
                    "leading_whitespace", "comma", "semicolon", "equal", "header", "footer", "lbrace",
                    "rbrace", "lbracket", "rbracket", "dot", "colon", "first_colon", "second_colon",
                    "operator", "asynchronous", "relative"})


class _AttributeOrder(cst.CSTVisitor):
    """Records the order in which libcst visits one node's attributes (children not entered)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        pass

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.names.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


_CHILD_ATTRS: dict[type, tuple[str, ...]] = {}


def _child_attrs(node: cst.CSTNode) -> tuple[str, ...]:
    """The attributes of ``type(node)`` that can hold code, in libcst's visiting order.

    The order is read off libcst itself (one ``_visit_and_replace_children`` per node type and
    process); the only attribute libcst visits conditionally (``format_spec``, when present) comes
    last, as do any fields the recorded instance did not visit.
    """
    rec = _AttributeOrder()
    node._visit_and_replace_children(rec)
    names = list(dict.fromkeys(rec.names))
    names += [f.name for f in dataclasses.fields(node) if f.name not in names]
    attrs = tuple(n for n in names if n not in _NOISE and not n.startswith("whitespace"))
    _CHILD_ATTRS[type(node)] = attrs
    return attrs


def _walk(c: Collector, node: cst.CSTNode) -> bool:
    """Visit ``node``'s subtree; True when it holds a node ``c.relevant`` accepts (itself included)."""
    if id(node) in c.skip:
        return False
    t = type(node)
    if t is cst.Call:
        c.visit_Call(node)  # type: ignore[arg-type]
    elif t is cst.Assign:
        c.visit_Assign(node)  # type: ignore[arg-type]
    elif t is cst.AnnAssign:
        c.visit_AnnAssign(node)  # type: ignore[arg-type]
    elif t is cst.Return:
        c.visit_Return(node)  # type: ignore[arg-type]
    elif t is cst.FunctionDef:
        c.visit_FunctionDef(node)  # type: ignore[arg-type]
    attrs = _CHILD_ATTRS.get(t)
    if attrs is None:
        attrs = _child_attrs(node)
    below = False
    for name in attrs:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            below |= _walk(c, value)
        elif isinstance(value, (tuple, list)):
            for child in value:
                below |= _walk(c, child)
    if t is cst.FunctionDef:
        c.leave_FunctionDef(node)  # type: ignore[arg-type]
    if c.relevant is None:
        return False
    if not below and attrs:
        c.inert.add(id(node))
    return below or c.relevant(node)


def collect(module: cst.Module, skip: set[int] | None = None,
            relevant: Callable[[cst.CSTNode], bool] | None = None) -> Collected:
    """Run :class:`Collector` over ``module`` (same calls, same order as ``module.visit``)."""
    c = Collector(skip, relevant)
    _walk(c, module)
    col = c.result()
    col.inert = c.inert
    return col
