"""The configuration error type and type naming shared by the config, settings and checks.

A module of its own so :mod:`.config`, :mod:`.settings` and :mod:`.engine_checks` can all use
them without importing each other.
"""

from __future__ import annotations

import types
import typing
from typing import Any


class ConfigError(ValueError):
    """A configuration problem, phrased for a one-line CLI message."""


def type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        # ``X | None``: None only means "unset", so the expected type is X
        return " or ".join(type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin is not None:
        return {dict: "table", list: "array"}.get(origin, getattr(origin, "__name__", str(tp)))
    if tp is type(None):
        return "nothing"
    return {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
            "date": "date (YYYY-MM-DD)", "dict": "table"}.get(getattr(tp, "__name__", ""), str(tp))
