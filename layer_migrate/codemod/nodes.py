"""Node helpers and small types shared by the rewrite mixins (no rewriting happens here)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from .cstutil import (
    make_str,
    str_value,
)

MARKER_PREFIX = "# layer-migrate:"
_NOTIFICATION_KEYS = {"text", "sound", "title", "category", "title-loc-key", "title-loc-args",
                      "loc-key", "loc-args", "action-loc-key", "apns", "data", "recipients"}
_PATCH_KEYS = {"operation", "property", "value", "id", "index"}



@dataclass
class Event:
    """One site the rewriter touched: ``kind`` is ``"rewritten"`` or ``"marked"``."""

    rule: str
    kind: str


@dataclass
class FileContext:
    """What the pre-scan of a file's text decided (see :mod:`.api`).

    ``layer_file``: the file talks to the Layer API, so v1 body *shapes* and response reads are
    trusted without a call site; ``webhook_file``: it consumes webhook deliveries, whose payloads
    are versioned by the webhook registration — their reads are left alone.
    """

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
