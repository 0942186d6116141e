"""Layer-Patch as the emulator reads it (spec §2): parsing, validation and property paths.

The emulator keeps its own small reader instead of the shared ``layer_patch`` module so that it
stays an independent oracle; it applies operations to its neutral model in the handlers.

* Content-Type must be ``application/vnd.layer-patch+json`` (the ``.json`` typo of the blocking
  page is accepted too, §1.3). Anything else → ``406 invalid_header`` with
  ``data.header = "Content-Type"`` (INFERRED from the Client API error page); ``--lenient``
  also accepts ``application/json``.
* ``index`` was never implemented by Layer → ``422 invalid_property``.
* Dotted paths use backslash escapes (``recipient_status.fred\\.flinstone``, API-592).
"""

from __future__ import annotations

from typing import Any

from ..errors import invalid_header, invalid_property, invalid_request, missing_property
from ..versions import PATCH_MEDIA_TYPE, PATCH_MEDIA_TYPE_TYPO, media_type_of
from .http import Ctx

OPERATIONS = ("add", "remove", "set", "delete")


def operations(ctx: Ctx) -> list[dict[str, Any]]:
    """The validated operations array of a Layer-Patch request."""
    ct = media_type_of(ctx.headers.get("content-type"))
    allowed = {PATCH_MEDIA_TYPE, PATCH_MEDIA_TYPE_TYPO}
    if ctx.lenient:
        allowed.add("application/json")
    if ct not in allowed:
        raise invalid_header("Content-Type", f"PATCH requests must use Content-Type {PATCH_MEDIA_TYPE}")
    ops = ctx.json()
    if not isinstance(ops, list):
        raise invalid_request("A Layer-Patch body must be an array of operations.")
    for i, op in enumerate(ops):
        where = f"operation {i}"
        if not isinstance(op, dict):
            raise invalid_request(f"Layer-Patch {where} must be an object.")
        if "operation" not in op:
            raise missing_property("operation", f"Layer-Patch {where}")
        if "property" not in op:
            raise missing_property("property", f"Layer-Patch {where}")
        if op["operation"] not in OPERATIONS:
            raise invalid_property("operation", f"Layer-Patch {where}: operation must be one of "
                                                f"{', '.join(OPERATIONS)}")
        if not isinstance(op["property"], str) or not op["property"]:
            raise invalid_property("property", f"Layer-Patch {where}: property must be a non-empty string")
        if "index" in op:
            raise invalid_property("index", f"Layer-Patch {where}: 'index' is not supported")
        unknown = set(op) - {"operation", "property", "value", "id"}
        if unknown:
            raise invalid_property(op["property"], f"Layer-Patch {where} has unknown keys: {', '.join(sorted(unknown))}")
        if op["operation"] in ("add", "remove", "set") and "value" not in op and "id" not in op:
            raise missing_property("value", f"Layer-Patch {where}")
        if "id" in op and not isinstance(op["id"], str):
            raise invalid_property(op["property"], f"Layer-Patch {where}: 'id' must be a string")
    return ops


def split_path(prop: str) -> list[str]:
    """``metadata.a\\.b.c`` → ``["metadata", "a.b", "c"]``."""
    parts, cur, i = [], [], 0
    while i < len(prop):
        ch = prop[i]
        if ch == "\\" and i + 1 < len(prop):
            cur.append(prop[i + 1])
            i += 2
            continue
        if ch == ".":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    if any(p == "" for p in parts):
        raise invalid_property(prop, f"Property path '{prop}' is malformed")
    return parts


def set_path(root: dict[str, Any], path: list[str], value: Any) -> None:
    """Assign inside nested objects, creating intermediate objects (§2 ``set``)."""
    cur = root
    for key in path[:-1]:
        nxt = cur.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[key] = nxt
        cur = nxt
    cur[path[-1]] = value


def delete_path(root: dict[str, Any], path: list[str]) -> None:
    """Remove a key; missing intermediates are a no-op (§2 ``delete``)."""
    cur: Any = root
    for key in path[:-1]:
        cur = cur.get(key) if isinstance(cur, dict) else None
        if not isinstance(cur, dict):
            return
    cur.pop(path[-1], None)
