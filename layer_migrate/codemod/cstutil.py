"""Small libcst helpers the transformer shares: literal strings, dict-like nodes, URL paths.

Kept apart from the transformer so each piece can be read (and tested) on its own. Nothing here
changes code; these functions only look at nodes or build new ones.
"""

from __future__ import annotations

import ast
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from .. import routes

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
PLACEHOLDER = "\x00"


# ---- strings ---------------------------------------------------------------------------------
def str_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain (non-bytes, non-f) string literal or implicit concatenation, else None."""
    if isinstance(node, cst.SimpleString):
        text = node.value
        return _literal_str(text) if len(text) <= 256 else _literal_str.__wrapped__(text)
    if isinstance(node, cst.ConcatenatedString):
        left, right = str_value(node.left), str_value(node.right)
        if left is None or right is None:
            return None
        return left + right
    return None


@lru_cache(maxsize=4096)
def _literal_str(literal: str) -> str | None:
    """The value of a string literal's source text (None for bytes or on error).

    Cached by text: ``SimpleString.evaluated_value`` compiles the literal each time, and the
    same keys (``"participants"``, ``"user_id"``) recur on every dict of every file. Long
    literals (docstrings) are not kept: the cache stays small."""
    try:
        # what ``SimpleString.evaluated_value`` (``ast.literal_eval``) computes for a literal,
        # without literal_eval's nested closures (a reference cycle per call)
        tree = ast.parse(literal, mode="eval").body
    except Exception:  # pragma: no cover - libcst validated the literal already
        return None
    return tree.value if isinstance(tree, ast.Constant) and isinstance(tree.value, str) else None


#: the quote style of the file being rewritten (set by :func:`.api.rewrite_source`)
QUOTE: ContextVar[str] = ContextVar("layer_migrate_codemod_quote", default='"')


def make_str(value: str, like: cst.SimpleString | None = None) -> cst.SimpleString:
    """A string literal for ``value``, using the quote style of ``like`` (else of the file) when
    it can hold it."""
    quote = QUOTE.get()
    if like is not None:
        q = like.quote
        if q in ("'", '"'):
            quote = q
    body = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if quote in body:
        other = "'" if quote == '"' else '"'
        if other not in body:
            quote = other
        else:
            body = body.replace(quote, "\\" + quote)
    return cst.SimpleString(f"{quote}{body}{quote}")


def dotted_name(node: cst.CSTNode) -> str:
    """``a.b.c`` for Name/Attribute chains, else ``""``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


# ---- dict-like nodes ---------------------------------------------------------------------------
@dataclass
class Item:
    key: str | None  # literal key, or None for computed keys / ``**spread``
    key_node: cst.BaseExpression | None
    value: cst.BaseExpression | None
    index: int


def is_dict_like(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Dict) or (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict"
        and all(a.keyword is not None for a in node.args)
    )


def dict_items(node: cst.BaseExpression) -> list[Item]:
    """The entries of a dict literal or a ``dict(k=v, ...)`` call."""
    items: list[Item] = []
    if isinstance(node, cst.Dict):
        for i, el in enumerate(node.elements):
            if isinstance(el, cst.DictElement):
                items.append(Item(str_value(el.key), el.key, el.value, i))
            else:
                items.append(Item(None, None, None, i))
    elif isinstance(node, cst.Call):
        for i, arg in enumerate(node.args):
            if arg.keyword is not None:
                items.append(Item(arg.keyword.value, None, arg.value, i))
            else:
                items.append(Item(None, None, None, i))
    return items


def dict_keys(node: cst.BaseExpression) -> set[str | None]:
    return {it.key for it in dict_items(node)}


def get_item(node: cst.BaseExpression, key: str) -> Item | None:
    for it in dict_items(node):
        if it.key == key:
            return it
    return None


def replace_item(node: cst.BaseExpression, index: int, key: str | None,
                 value: cst.BaseExpression) -> cst.BaseExpression:
    """Replace entry ``index`` with ``key: value`` (keeping its comma and whitespace)."""
    if isinstance(node, cst.Dict):
        el = node.elements[index]
        assert isinstance(el, cst.DictElement)
        new_key = el.key
        if key is not None and str_value(el.key) != key:
            new_key = make_str(key, el.key if isinstance(el.key, cst.SimpleString) else None)
        elements = list(node.elements)
        elements[index] = el.with_changes(key=new_key, value=value)
        return node.with_changes(elements=elements)
    assert isinstance(node, cst.Call)
    arg = node.args[index]
    args = list(node.args)
    kw = arg.keyword if key is None or (arg.keyword and arg.keyword.value == key) else cst.Name(key)
    args[index] = arg.with_changes(keyword=kw, value=value)
    return node.with_changes(args=args)


def new_dict(pairs: list[tuple[str, cst.BaseExpression]], like: cst.BaseExpression | None = None,
             extra: list[cst.BaseDictElement] = ()) -> cst.BaseExpression:
    """A dict literal (or ``dict(...)`` call when ``like`` is one) with ``pairs`` then ``extra``."""
    if isinstance(like, cst.Call):
        args = [cst.Arg(keyword=cst.Name(k), value=v,
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
                for k, v in pairs]
        return cst.Call(func=cst.Name("dict"), args=args)
    elements: list[cst.BaseDictElement] = [cst.DictElement(make_str(k), v) for k, v in pairs]
    elements.extend(extra)
    return cst.Dict(elements=elements)


# ---- URLs ---------------------------------------------------------------------------------------
_RESOURCES = ("/conversations", "/users", "/announcements", "/notifications", "/webhooks",
              "/exports", "/export_")


def url_text(node: cst.BaseExpression, names: dict[str, cst.BaseExpression] | None = None,
             depth: int = 0) -> str | None:
    """The URL an expression builds, with :data:`PLACEHOLDER` for every unknown part, or None.

    Handles literals, f-strings, ``+`` concatenation, ``"%s" % x``, ``"{}".format(x)`` and URL
    helper calls (``self._url("/users/%s" % u)``, ``urljoin(base, path)``): the last argument
    that yields text containing ``/`` is taken as the path.
    """
    if depth > 8:
        return None
    value = str_value(node)
    if value is not None:
        return value
    if isinstance(node, cst.FormattedString):
        out = []
        for part in node.parts:
            out.append(part.value if isinstance(part, cst.FormattedStringText) else PLACEHOLDER)
        return "".join(out)
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Add):
            left = url_text(node.left, names, depth + 1)
            right = url_text(node.right, names, depth + 1)
            return (left if left is not None else PLACEHOLDER) + (right if right is not None else PLACEHOLDER) \
                if (left is not None or right is not None) else None
        if isinstance(node.operator, cst.Modulo):
            fmt = str_value(node.left)
            if fmt is not None:
                return re.sub(r"%[sdr]", PLACEHOLDER, fmt)
        return None
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
            fmt = str_value(node.func.value)
            if fmt is not None:
                return re.sub(r"\{[^{}]*\}", PLACEHOLDER, fmt)
        for arg in reversed(node.args):
            if arg.keyword is not None and arg.keyword.value not in ("path", "url"):
                continue
            text = url_text(arg.value, names, depth + 1)
            if text is not None and "/" in text:
                return text
        return None
    if isinstance(node, cst.Name) and names and node.value in names:
        return url_text(names[node.value], None, depth + 1)
    return None


def normalise_path(text: str) -> str | None:
    """A URL text → an API path ``/apps/X/...`` usable with :func:`layer_migrate.routes.match`."""
    text = text.split("?", 1)[0].split("#", 1)[0]
    i = text.find("/apps/")
    if i >= 0:
        path = text[i:]
    else:
        # a base URL that already includes /apps/<app>: "{base}/conversations"
        stripped = text.lstrip(PLACEHOLDER)
        if not stripped.startswith(_RESOURCES):
            return None
        path = "/apps/X" + stripped
    segments = path.split("/")
    out = []
    for seg in segments:
        if PLACEHOLDER in seg:
            out.append("X")
        else:
            out.append(seg)
    path = "/".join(out)
    if "//" in path.rstrip("/"):
        return None
    return path


def match_url(method: str, node: cst.BaseExpression,
              names: dict[str, cst.BaseExpression] | None = None) -> routes.Match | None:
    text = url_text(node, names)
    if text is None:
        return None
    path = normalise_path(text)
    if path is None:
        return None
    return routes.match(method, path)
