"""Source expressions for identity ids (R11): ``ID(u) = "layer:///identities/" + encodeURIComponent(u)``.

Two styles (``--identity-helper``):

* ``inline`` — ``"layer:///identities/" + quote(u, safe="-_.!~*'()")`` plus
  ``from urllib.parse import quote``: no runtime dependency on this toolkit. ``safe`` is exactly
  encodeURIComponent's unreserved set, so ids match what the proxy and the server compute.
* ``import`` — ``identity_id(u)`` from :mod:`layer_migrate.identity`, which also leaves values that
  are already identity ids alone at run time (mixed, half-migrated code).

Literals are computed at rewrite time with :func:`layer_migrate.identity.identity_id`, and an
expression that already builds an identity id is never wrapped again (no double prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import libcst as cst

from ..identity import IDENTITY_PREFIX, identity_id
from .cstutil import dotted_name, make_str, str_value

HelperMode = Literal["inline", "import"]
JS_SAFE = "-_.!~*'()"


def already_identity(node: cst.BaseExpression) -> bool:
    """True when ``node`` visibly builds an identity id already."""
    value = str_value(node)
    if value is not None:
        return value.startswith(IDENTITY_PREFIX)
    if isinstance(node, cst.FormattedString):
        first = node.parts[0] if node.parts else None
        return isinstance(first, cst.FormattedStringText) and first.value.startswith(IDENTITY_PREFIX)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return already_identity(node.left)
    if isinstance(node, cst.Call):
        name = dotted_name(node.func)
        return name.endswith("identity_id") and not name.endswith("user_identity_id")
    return False


class IdentityBuilder:
    """Builds ``ID(expr)`` in the chosen style and remembers which import the file needs."""

    def __init__(self, mode: HelperMode = "inline", quote_name: str = "quote") -> None:
        self.mode = mode
        self.quote_name = quote_name  # "quote" or "urllib.parse.quote" when the name is taken
        self.needs_import: set[tuple[str, str | None]] = set()
        #: name → the expression it was assigned (set by the rewriter for the current scope)
        self.resolve: Callable[[str], cst.BaseExpression | None] = lambda name: None

    def known_identity(self, node: cst.BaseExpression) -> bool:
        """``node`` builds an identity id, directly or through a name assigned one."""
        if already_identity(node):
            return True
        if isinstance(node, cst.Name):
            value = self.resolve(node.value)
            return value is not None and already_identity(value)
        return False

    def known_identity_list(self, node: cst.BaseExpression) -> bool:
        """``node`` is (a name for) a list whose every element is already an identity id."""
        if isinstance(node, cst.Name):
            value = self.resolve(node.value)
            node = value if value is not None else node
        if isinstance(node, (cst.List, cst.Tuple)):
            return bool(node.elements) and all(
                not isinstance(e, cst.StarredElement) and already_identity(e.value) for e in node.elements)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return already_identity(node.elt)
        return False

    def wrap(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """``ID(node)``; the same node when it is already an identity id."""
        if self.known_identity(node):
            return node
        value = str_value(node)
        if value is not None:
            return make_str(identity_id(value), node if isinstance(node, cst.SimpleString) else None)
        if self.mode == "import":
            self.needs_import.add(("layer_migrate.identity", "identity_id"))
            return cst.Call(func=cst.Name("identity_id"), args=[cst.Arg(_strip_parens(node))])
        if self.quote_name == "quote":
            self.needs_import.add(("urllib.parse", "quote"))
            func: cst.BaseExpression = cst.Name("quote")
        else:
            self.needs_import.add(("urllib.parse", None))
            func = cst.parse_expression("urllib.parse.quote")
        call = cst.Call(func=func, args=[
            cst.Arg(_strip_parens(node), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(make_str(JS_SAFE), keyword=cst.Name("safe"),
                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))),
        ])
        return cst.BinaryOperation(left=make_str(IDENTITY_PREFIX), operator=cst.Add(), right=call)


def _strip_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    if getattr(node, "lpar", None):
        return node.with_changes(lpar=[], rpar=[])
    return node
