"""URL surgery for the block-list routes (R38/R39): ``…/users/:owner/blocks[/:user]`` → ``…/users/:owner``.

Works on the shapes code builds URLs with — literals, f-strings, ``+`` chains, ``%`` formatting and
URL helper calls — and hands back the blocked user's expression for the Layer-Patch body.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import libcst as cst

from .cstutil import (
    PLACEHOLDER,
    dotted_name,
    make_str,
    str_value,
    url_text,
)
from .nodes import _comma

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
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format" \
            and isinstance(node.func.value, cst.SimpleString):
        return _strip_format(node, delete)
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


def _strip_format(node: cst.Call, delete: bool) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """``"{}/users/{}/blocks/{}".format(base, owner, user)`` (positional ``{}`` fields only)."""
    template = node.func.value  # type: ignore[attr-defined]
    fmt = str_value(template)
    if fmt is None or re.search(r"\{[^{}]+\}", fmt):
        return None
    positional = [i for i, a in enumerate(node.args) if a.keyword is None and not a.star]
    if fmt.count("{}") != len(positional):
        return None
    func = node.func
    if not delete:
        if not _CREATE_TAIL.search(fmt):
            return None
        return node.with_changes(func=func.with_changes(value=make_str(_CREATE_TAIL.sub("", fmt), template))), None  # type: ignore[attr-defined]
    if not re.search(r"/blocks/\{\}/?$", fmt):
        return None
    last = positional[-1]
    args = [a for i, a in enumerate(node.args) if i != last]
    if args:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    new_fmt = re.sub(r"/blocks/\{\}/?$", "", fmt)
    return node.with_changes(func=func.with_changes(value=make_str(new_fmt, template)), args=args), \
        _unquote_call(node.args[last].value)  # type: ignore[attr-defined]


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
