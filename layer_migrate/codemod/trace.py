"""Which keys a same-module function or method puts into the dict it returns.

``'sender': sender.as_dict()`` says nothing about the sender's shape; the method that builds it,
in the same file, does (``data['user_id'] = self.id`` / ``data['name'] = self.name``). The codemod
uses the keys to decide the role of the value at the call site (a v1 sender becomes a
``sender_id``), and rewrites the *call site*, not the method: the same ``as_dict`` may also build an
identity body for ``PUT …/identity``, where ``user_id`` must stay what it is.

A method is picked by name; with several (``Sender.as_dict``, ``MessagePart.as_dict``…) the one
whose class name ends with the receiver's name (``sender`` → ``Sender``, ``notification`` →
``PushNotification``) wins, else there is no answer (the site keeps its marker).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from .cstutil import dict_keys, is_dict_like, str_value


@dataclass(frozen=True)
class Builder:
    """A function (``cls`` None) or method that returns a dict literal built in its body."""

    cls: str | None
    func: cst.FunctionDef


def _functions(module: cst.Module) -> dict[str, list[Builder]]:
    out: dict[str, list[Builder]] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            out.setdefault(stmt.name.value, []).append(Builder(None, stmt))
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            for inner in stmt.body.body:
                if isinstance(inner, cst.FunctionDef):
                    out.setdefault(inner.name.value, []).append(Builder(stmt.name.value, inner))
    return out


class _Keys(cst.CSTVisitor):
    """Collects, in one function body, dict literals assigned to names, ``name['k'] = v`` keys
    and what ``return`` returns (nested functions and classes are not entered)."""

    def __init__(self, root: cst.FunctionDef) -> None:
        self.root = root
        self.assigned: dict[str, set[str | None]] = {}
        self.item_keys: dict[str, set[str | None]] = {}
        self.returns: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            target = t.target
            if isinstance(target, cst.Name) and is_dict_like(node.value):
                self.assigned.setdefault(target.value, set()).update(dict_keys(node.value))
            elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) \
                    and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = str_value(target.slice[0].slice.value)
                self.item_keys.setdefault(target.value.value, set()).add(key)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.returns.append(node.value)


def returned_keys(func: cst.FunctionDef) -> set[str | None] | None:
    """The keys of the dict ``func`` returns (None when it returns anything else)."""
    v = _Keys(func)
    func.visit(v)
    if not v.returns:
        return None
    keys: set[str | None] = set()
    for r in v.returns:
        if is_dict_like(r):
            keys |= dict_keys(r)
        elif isinstance(r, cst.Name) and r.value in v.assigned:
            keys |= v.assigned[r.value] | v.item_keys.get(r.value, set())
        else:
            return None
    return keys


class Tracer:
    """Answers "what keys does this call's dict have?" for calls of same-module builders."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._funcs: dict[str, list[Builder]] | None = None
        self._cache: dict[int, set[str | None] | None] = {}

    def builder(self, call: cst.BaseExpression) -> Builder | None:
        if not isinstance(call, cst.Call):
            return None
        if self._funcs is None:
            self._funcs = _functions(self._module)
        func = call.func
        if isinstance(func, cst.Name):
            found = [b for b in self._funcs.get(func.value, []) if b.cls is None]
            return found[0] if len(found) == 1 else None
        if not isinstance(func, cst.Attribute):
            return None
        found = [b for b in self._funcs.get(func.attr.value, []) if b.cls is not None]
        if len(found) > 1:
            receiver = func.value
            name = receiver.attr.value if isinstance(receiver, cst.Attribute) else \
                receiver.value if isinstance(receiver, cst.Name) else ""
            name = name.lower().strip("_")
            found = [b for b in found if name and b.cls and b.cls.lower().endswith(name)]
        return found[0] if len(found) == 1 else None

    def keys(self, call: cst.BaseExpression) -> set[str | None] | None:
        """Keys of the dict returned by the same-module function ``call`` calls, if known."""
        b = self.builder(call)
        if b is None:
            return None
        if id(b.func) not in self._cache:
            self._cache[id(b.func)] = returned_keys(b.func)
        return self._cache[id(b.func)]
