"""Layer-Patch (spec §2): parse, validate and apply ``application/vnd.layer-patch+json`` bodies.

A body is an array of operations ``{"operation", "property", "value"?, "id"?, "index"?}`` executed
in order. ``add``/``remove`` without ``index`` have *set semantics* (adding an existing value or
removing an absent one is a no-op); ``set`` assigns (creating nested objects, never a new top-level
property); ``delete`` removes a key inside an object property. A literal dot inside a key is
escaped with a backslash (``recipient_status.fred\\.flinstone``, since 2015-09-28) or, in the first
spec, doubled (``fred..flinstone``); both are read, the backslash form is written.

Application is translated to RFC 6902 JSON Patch operations and run by ``jsonpatch`` (JSON Pointer
escaping, atomic application); Layer-Patch's own semantics (set semantics, intermediate objects)
are decided here first.
"""

from __future__ import annotations

import builtins
import copy
from dataclasses import dataclass
from typing import Any

import jsonpatch

from .errors import LayerError, invalid_property, invalid_request

OPERATIONS = ("add", "remove", "set", "delete")
_KEYS = frozenset({"operation", "property", "value", "id", "index"})


@dataclass(frozen=True)
class Operation:
    """One validated Layer-Patch operation; ``path`` is ``property`` split into keys."""

    operation: str
    property: str
    path: tuple[str, ...]
    value: Any = None
    id: str | None = None
    has_value: bool = False

    @builtins.property  # the field ``property`` shadows the builtin in this class body
    def item(self) -> Any:
        """What add/remove match on: the ``id`` when given (§2: id used to match), else ``value``."""
        return self.id if self.id is not None else self.value


def split_property(prop: str) -> tuple[str, ...]:
    """``"metadata.a\\.b"`` or ``"metadata.a..b"`` → ``("metadata", "a.b")``."""
    parts: list[str] = []
    buf: list[str] = []
    i, n = 0, len(prop)
    while i < n:
        ch = prop[i]
        if ch == "\\" and i + 1 < n and prop[i + 1] in ".\\":
            buf.append(prop[i + 1])
            i += 2
            continue
        if ch == ".":
            if i + 1 < n and prop[i + 1] == ".":  # 2015-06-18 spec: ".." is a literal dot
                buf.append(".")
                i += 2
                continue
            parts.append("".join(buf))
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return tuple(parts)


def join_property(path: tuple[str, ...] | list[str]) -> str:
    """The inverse of :func:`split_property`, in the current (backslash) escaping."""
    return ".".join(p.replace("\\", "\\\\").replace(".", "\\.") for p in path)


def parse(body: Any) -> list[Operation]:
    """Validate a Layer-Patch body; bad operations raise a :class:`LayerError` naming the problem."""
    if not isinstance(body, list):
        raise invalid_request("A Layer-Patch body must be an array of operations", data={"property": "body"})
    ops: list[Operation] = []
    for i, raw in enumerate(body):
        where = f"operations[{i}]"
        if not isinstance(raw, dict):
            raise invalid_request(f"Layer-Patch operation {i} must be an object", data={"property": where})
        unknown = set(raw) - _KEYS
        if unknown:
            raise invalid_property(f"{where}.{sorted(unknown)[0]}",
                                   f"Layer-Patch operation {i} has unknown key(s): {', '.join(sorted(unknown))}")
        op = raw.get("operation")
        if op is None:
            raise LayerError("missing_property", f"Layer-Patch operation {i} is missing 'operation'",
                             data={"property": f"{where}.operation"})
        if op not in OPERATIONS:
            raise invalid_property(f"{where}.operation",
                                   f"Layer-Patch operation {i}: unknown operation {op!r}; expected add, remove, set or delete")
        prop = raw.get("property")
        if not isinstance(prop, str) or not prop:
            raise LayerError("missing_property" if prop is None else "invalid_property",
                             f"Layer-Patch operation {i} needs a non-empty 'property' string",
                             data={"property": f"{where}.property"})
        path = split_property(prop)
        if any(p == "" for p in path):
            raise invalid_property(f"{where}.property", f"Layer-Patch operation {i}: empty key in property {prop!r}")
        if "index" in raw:
            raise invalid_property(f"{where}.index", "Layer-Patch 'index' is not implemented by any framework (§2)")
        has_value = "value" in raw
        ident = raw.get("id")
        if ident is not None and not isinstance(ident, str):
            raise invalid_property(f"{where}.id", f"Layer-Patch operation {i}: 'id' must be a Layer ID string")
        if op in ("add", "remove"):
            if not has_value and ident is None:
                raise LayerError("missing_property", f"Layer-Patch {op} operation {i} needs 'value' or 'id'",
                                 data={"property": f"{where}.value"})
            if ident is None and isinstance(raw.get("value"), (dict, list)):
                raise invalid_property(f"{where}.value",
                                       f"Layer-Patch {op} operation {i}: objects and arrays need an 'id'")
        elif op == "set":
            if not has_value and ident is None:
                raise LayerError("missing_property", f"Layer-Patch set operation {i} needs 'value'",
                                 data={"property": f"{where}.value"})
        else:  # delete
            if has_value or ident is not None:
                raise invalid_property(f"{where}.value", f"Layer-Patch delete operation {i} takes no value")
            if len(path) == 1:
                raise LayerError("invalid_operation",
                                 f"Layer-Patch operation {i}: cannot delete base property {prop!r}; set it to null",
                                 data={"property": f"{where}.property"})
        ops.append(Operation(op, prop, path, raw.get("value"), ident, has_value))
    return ops


def _pointer(path: tuple[str, ...] | list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def to_json_patch(document: dict[str, Any], ops: list[Operation], *, allow_new_base: bool = False) -> list[dict[str, Any]]:
    """RFC 6902 operations equivalent to ``ops`` on ``document`` (Layer-Patch semantics decided here).

    ``document`` is only read; the operations are planned on a scratch copy of the touched paths.
    """
    doc = copy.deepcopy(document)
    out: list[dict[str, Any]] = []
    for i, op in enumerate(ops):
        base = op.path[0]
        if base not in doc and not allow_new_base and op.operation in ("set", "delete") and len(op.path) == 1:
            raise invalid_property(op.property, f"Layer-Patch operation {i}: unknown property {base!r}")
        # walk/create intermediates
        node: Any = doc
        for depth, key in enumerate(op.path[:-1]):
            if not isinstance(node, dict):
                raise invalid_property(op.property, f"Layer-Patch operation {i}: {'.'.join(op.path[:depth])!r} is not an object")
            if key not in node or node[key] is None:
                if op.operation == "remove":
                    node = None
                    break
                if depth == 0 and key not in node and not allow_new_base:
                    raise invalid_property(op.property, f"Layer-Patch operation {i}: unknown property {key!r}")
                out.append({"op": "add", "path": _pointer(op.path[:depth + 1]), "value": {}})
                node[key] = {}
            node = node[key]
        if node is None:
            continue
        if not isinstance(node, dict):
            raise invalid_property(op.property, f"Layer-Patch operation {i}: parent of {op.property!r} is not an object")
        key = op.path[-1]
        ptr = _pointer(op.path)
        if op.operation == "set":
            value = op.value if op.has_value else op.id
            out.append({"op": "add", "path": ptr, "value": copy.deepcopy(value)})
            node[key] = copy.deepcopy(value)
        elif op.operation == "delete":
            if key in node:
                out.append({"op": "remove", "path": ptr})
                del node[key]
        else:
            current = node.get(key)
            if current is None:
                if op.operation == "remove":
                    continue
                out.append({"op": "add", "path": ptr, "value": []})
                node[key] = current = []
            if not isinstance(current, list):
                raise invalid_property(op.property, f"Layer-Patch {op.operation} operation {i}: {op.property!r} is not an array")
            item = op.item
            present = [j for j, x in enumerate(current) if _same(x, item)]
            if op.operation == "add" and not present:
                out.append({"op": "add", "path": ptr + "/-", "value": copy.deepcopy(item)})
                current.append(item)
            elif op.operation == "remove":
                for j in reversed(present):
                    out.append({"op": "remove", "path": f"{ptr}/{j}"})
                    del current[j]
    return out


def _same(existing: Any, item: Any) -> bool:
    if existing == item:
        return True
    # arrays of objects identified by id (participants as BasicIdentity)
    return isinstance(existing, dict) and isinstance(item, str) and existing.get("id") == item


def apply(document: dict[str, Any], body: Any, *, allow_new_base: bool = False) -> dict[str, Any]:
    """A new document: ``body`` (a Layer-Patch array) applied to ``document`` (left untouched)."""
    if not isinstance(document, dict):
        raise invalid_request("A Layer-Patch target must be a JSON object")
    ops = parse(body)
    patch = to_json_patch(document, ops, allow_new_base=allow_new_base)
    try:
        return jsonpatch.apply_patch(document, patch, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:  # pragma: no cover
        raise LayerError("invalid_operation", f"Layer-Patch could not be applied: {exc}") from None
