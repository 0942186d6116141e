"""Compiles declared facts (``FieldFact``, ``PatchOpFact``) into the callables the engine runs.

Rules mostly *declare* what changes (a field moves, a user id becomes an identity id); this module
is the generic interpreter of those declarations: path parsing, copy-on-write application, the
field actions and their inverses, and hand-specialised versions of the common shapes for the hot
path. It is separate from the engine because it knows nothing of versions, steps or pipelines, and
because rule modules reuse its helpers (``bot_name``, ``sender_to_v1``, ``fast_identity_id``, …).
The engine only calls :func:`compile_field_fact` and :func:`compile_patch_fact` at compile time;
the compiled closures run on the hot path exactly as before (no extra indirection).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .errors import invalid_property
from .facts import FieldFact, PatchOpFact
from .identity import IDENTITY_PREFIX, default_bot_user_id, identity_id, user_id_of
from .prerequisites import EnsureIdentity, EnsureParticipant
from .rulebook import Context

__all__ = [
    "Action", "bot_name", "compile_field_fact", "compile_patch_fact", "fast_identity_id",
    "fast_user_id", "sender_from_v1", "sender_to_v1",
]


def _parse_path(path: str) -> tuple[tuple[str, str], ...]:
    """``"a.b[]"`` → ``(("a", ""), ("b", "[]"))``; ``"a{}"`` = the keys of object ``a``."""
    if not path:
        return ()
    tokens = []
    for part in path.split("."):
        if part.endswith("[]"):
            tokens.append((part[:-2], "[]"))
        elif part.endswith("{}"):
            tokens.append((part[:-2], "{}"))
        else:
            tokens.append((part, ""))
    return tuple(tokens)


Action = Callable[[Any, Context, str], Any]
_SKIP = object()  # an action's "leave this value alone"


def _apply(value: Any, tokens: tuple[tuple[str, str], ...], fn: Action, ctx: Context, where: str) -> Any:
    """Copy-on-write: rebuild only the containers along ``tokens``; unchanged → same object."""
    if not tokens:
        out = fn(value, ctx, where)
        return value if out is _SKIP else out
    if not isinstance(value, dict):
        return value
    name, kind = tokens[0]
    if name not in value:
        return value
    child = value[name]
    rest = tokens[1:]
    here = f"{where}.{name}" if where else name
    if kind == "":
        new = _apply(child, rest, fn, ctx, here)
    elif kind == "[]":
        if not isinstance(child, list):
            return value
        items = [_apply(e, rest, fn, ctx, f"{here}[{i}]") for i, e in enumerate(child)]
        new = child if all(a is b for a, b in zip(items, child, strict=False)) else items
    else:  # "{}": the keys of an object
        if not isinstance(child, dict):
            return value
        new = {}
        changed = False
        for k, v in child.items():
            nk = fn(k, ctx, here)
            if nk is _SKIP:
                nk = k
            changed = changed or nk != k
            new[nk] = v
        if not changed:
            new = child
    if new is child:
        return value
    out = dict(value)
    out[name] = new
    return out


def _get(value: Any, tokens: tuple[tuple[str, str], ...]) -> Any:
    for name, _ in tokens:
        if not isinstance(value, dict) or name not in value:
            return _SKIP
        value = value[name]
    return value


def _without(value: dict[str, Any], tokens: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """``value`` minus the key at ``tokens``; parents left empty are removed too."""
    name = tokens[0][0]
    out = dict(value)
    if len(tokens) == 1:
        out.pop(name, None)
        return out
    child = out.get(name)
    if isinstance(child, dict):
        new = _without(child, tokens[1:])
        if new:
            out[name] = new
        else:
            out.pop(name)
    return out


def _with(value: dict[str, Any], tokens: tuple[tuple[str, str], ...], new: Any) -> dict[str, Any]:
    name = tokens[0][0]
    out = dict(value)
    if len(tokens) == 1:
        out[name] = new
    else:
        child = out.get(name)
        out[name] = _with(child if isinstance(child, dict) else {}, tokens[1:], new)
    return out


_UNRESERVED = re.compile(r"[A-Za-z0-9\-_.!~*'()]*\Z")


_ID_CACHE: dict[str, str] = {}


def fast_identity_id(u: str) -> str:
    """:func:`layer_migrate.identity.identity_id`, memoised (user ids repeat across requests)."""
    hit = _ID_CACHE.get(u)
    if hit is None:
        hit = IDENTITY_PREFIX + u if _UNRESERVED.match(u) else identity_id(u)
        if len(_ID_CACHE) >= 65536:
            _ID_CACHE.clear()
        _ID_CACHE[u] = hit
    return hit


def fast_user_id(v: Any) -> Any:
    """:func:`layer_migrate.identity.user_id_of` without ``unquote`` when nothing is escaped."""
    if isinstance(v, str):
        if v.startswith(IDENTITY_PREFIX):
            rest = v[20:]
            return user_id_of(v) if "%" in rest else rest
        return v
    if isinstance(v, dict):
        uid = v.get("user_id")
        if isinstance(uid, str):
            return uid
    return user_id_of(v)


# Actions: (value, ctx, where) -> new value | _SKIP. "where" names the property for errors.
def _act_identity_id(v: Any, ctx: Context, where: str) -> Any:
    if isinstance(v, str):
        if not ctx.options.identity_ids_in_requests:
            return _SKIP
        return fast_identity_id(v)
    raise invalid_property(where.split("[")[0], f"Property '{where}' must be a user id string")


def _act_user_id(v: Any, ctx: Context, where: str) -> Any:
    if isinstance(v, str) and not v.startswith(IDENTITY_PREFIX):
        return _SKIP
    uid = fast_user_id(v)
    return _SKIP if uid is None and not isinstance(v, dict) else uid


def _act_bot_identity(v: Any, ctx: Context, where: str) -> Any:
    if not isinstance(v, str) or not v:
        raise invalid_property(where, f"Property '{where}' must be a non-empty string")
    uid = ctx.options.bots.user_id_for(v)
    if uid is None:
        raise invalid_property(where, f"No bot identity is configured for sender name {v!r}")
    ctx.require(EnsureIdentity(uid, v))
    if ctx.options.provision_bot_as_participant and "conversation" in ctx.params:
        ctx.require(EnsureParticipant(ctx.params["conversation"], uid))  # R22 risk option
    return fast_identity_id(uid)


def _act_bot_name(v: Any, ctx: Context, where: str) -> Any:
    """Inverse of bot_identity: a known bot's identity id → its v1 display name."""
    name = ctx.options.bots.name_for(user_id_of(v))
    return _SKIP if name is None else name


def _overrides_up(v: Any, ctx: Context, where: str) -> Any:
    """R26: map ``{U: {...}}`` or array ``[{"user_id": U, ...}]`` → ``[{"recipient": ID(U), ...}]``."""
    out = []
    if isinstance(v, dict):
        for uid, entry in v.items():
            if not isinstance(entry, dict):
                raise invalid_property(where, f"Property '{where}.{uid}' must be an object")
            out.append({"recipient": fast_identity_id(uid), **entry})
        return out
    if isinstance(v, list):
        for i, entry in enumerate(v):
            if not isinstance(entry, dict):
                raise invalid_property(where, f"Property '{where}[{i}]' must be an object")
            if "recipient" in entry and "user_id" not in entry:
                out.append(entry)
                continue
            uid = entry.get("user_id")
            if not isinstance(uid, str):
                raise invalid_property(f"{where}.user_id", f"Property '{where}[{i}].user_id' must be a user id string")
            rest = {k: x for k, x in entry.items() if k != "user_id"}
            out.append({"recipient": fast_identity_id(uid), **rest})
        return out
    raise invalid_property(where, f"Property '{where}' must be an object or an array")


def _overrides_down(v: Any, ctx: Context, where: str) -> Any:
    if not isinstance(v, list):
        return _SKIP
    out = []
    for entry in v:
        if isinstance(entry, dict) and "recipient" in entry:
            rest = {k: x for k, x in entry.items() if k != "recipient"}
            out.append({"user_id": user_id_of(entry["recipient"]), **rest})
        else:
            out.append(entry)
    return out


def sender_to_v1(s: Any, ctx: Context) -> Any:
    """R24: BasicIdentity → v1 ``{"user_id", "name"}`` (one of them null)."""
    if not isinstance(s, dict):
        return s
    if "id" not in s and ("name" in s or ("user_id" in s and "display_name" not in s)):
        return s  # already v1
    if s.get("id") is None and s.get("user_id") is None:
        return {"user_id": None, "name": s.get("display_name")}
    uid = user_id_of(s)
    name = bot_name(uid, s, ctx)
    if name is not None:
        return {"user_id": None, "name": name}
    return {"user_id": uid, "name": None}


def bot_name(uid: str | None, identity: dict[str, Any], ctx: Context) -> str | None:
    """NAME[uid] (R24): from the bot directory, or — for a directory that has not seen the name in
    this process — a ``display_name`` whose deterministic default bot id is ``uid``."""
    name = ctx.options.bots.name_for(uid)
    if name is None and uid is not None and uid.startswith("bot-") and not ctx.options.bots.strict:
        dn = identity.get("display_name")
        if isinstance(dn, str) and default_bot_user_id(dn) == uid:
            return dn
    return name


def sender_from_v1(s: Any, ctx: Context) -> Any:
    """Inverse of R24 for stored payloads: v1 sender → a minimal BasicIdentity."""
    if not isinstance(s, dict) or "id" in s:
        return s
    uid, name = s.get("user_id"), s.get("name")
    if uid is None and name is not None:
        bot = ctx.options.bots.user_id_for(name) if ctx.options.bots.is_bot(
            ctx.options.bots.mapping.get(name)) else None
        if bot is None:
            return {"id": None, "url": None, "user_id": None, "display_name": name}
        return {"id": identity_id(bot), "user_id": bot, "display_name": name}
    if uid is None:
        return s
    return {"id": identity_id(uid), "user_id": uid, "display_name": None}


def _act_sender_object(v: Any, ctx: Context, where: str) -> Any:
    return sender_to_v1(v, ctx)


def _act_sender_from_v1(v: Any, ctx: Context, where: str) -> Any:
    return sender_from_v1(v, ctx)


def _act_remove(v: Any, ctx: Context, where: str) -> Any:  # handled by the caller
    return v


_UP: dict[str, Action] = {
    "identity_id": _act_identity_id, "user_id": _act_user_id, "bot_identity": _act_bot_identity,
    "recipient_overrides": _overrides_up, "sender_object": _act_sender_object, "remove": _act_remove,
}
#: The inverse of each action, for the other direction (None = not invertible: lossy).
_DOWN: dict[str, Action | None] = {
    "identity_id": _act_user_id, "user_id": lambda v, c, w: identity_id(v) if isinstance(v, str) else _SKIP,
    "bot_identity": _act_bot_name, "recipient_overrides": _overrides_down,
    "sender_object": _act_sender_from_v1, "remove": None,
}


def compile_field_fact(fact: FieldFact, forward: bool) -> Callable[[Any, Context], Any] | None:
    """A ``fn(body, ctx) -> body`` applying ``fact`` (forward = the way the fact is stated).

    Request facts are stated upward (v1 → newer), object facts downward (newer → v1).
    """
    action = _UP[fact.action] if forward else _DOWN[fact.action]
    src = _parse_path(fact.path)
    if fact.action == "remove":
        if not forward:
            return None
        toks = src

        def remove(body: Any, ctx: Context) -> Any:
            if _get(body, toks) is _SKIP:
                return body
            return _without(body, toks)

        return remove
    if action is None:
        return None
    if fact.to is None:
        return _specialised(src, action) or _generic(src, action)
    dst = _parse_path(fact.to)
    frm, to = (src, dst) if forward else (dst, src)
    frm_name = fact.path if forward else fact.to
    if len(frm) == 2 and len(to) == 1 and not any(k for _, k in frm + to):
        (a, _), (b, _) = frm
        (c, _), = to

        def move_ab_c(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            parent = body.get(a)
            if type(parent) is not dict or parent.get(b) is None:
                return body
            new = action(parent[b], ctx, frm_name)
            if new is _SKIP:
                return body
            out = body.copy()
            rest = {k: v for k, v in parent.items() if k != b}
            if rest:
                out[a] = rest
            else:
                del out[a]
            out[c] = new
            return out

        return move_ab_c
    if len(frm) == 1 and len(to) == 2 and not any(k for _, k in frm + to):
        (a, _), = frm
        (b, _), (c, _) = to

        def move_a_bc(body: Any, ctx: Context) -> Any:
            if type(body) is not dict or body.get(a) is None:
                return body
            new = action(body[a], ctx, frm_name)
            if new is _SKIP:
                return body
            out = body.copy()
            del out[a]
            parent = out.get(b)
            out[b] = {**parent, c: new} if type(parent) is dict else {c: new}
            return out

        return move_a_bc

    def move(body: Any, ctx: Context) -> Any:
        if not isinstance(body, dict):
            return body
        v = _get(body, frm)
        if v is _SKIP or v is None:
            return body
        new = action(v, ctx, frm_name)
        if new is _SKIP:
            return body
        return _with(_without(body, frm), to, new)

    return move


def _generic(src: tuple[tuple[str, str], ...], action: Action) -> Callable[[Any, Context], Any]:
    def field(body: Any, ctx: Context) -> Any:
        return _apply(body, src, action, ctx, "")

    return field


def _specialised(src: tuple[tuple[str, str], ...], action: Action) -> Callable[[Any, Context], Any] | None:
    """Hand-rolled versions of :func:`_apply` for one-token paths (the common case, hot path)."""
    if len(src) == 2 and src[0][1] == "" and src[1][1] == "":
        (a, _), (b, _) = src
        where = f"{a}.{b}"

        def two(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            parent = body.get(a)
            if type(parent) is not dict or b not in parent:
                return body
            v = parent[b]
            nv = action(v, ctx, where)
            if nv is _SKIP or nv is v:
                return body
            out = body.copy()
            out[a] = {**parent, b: nv}
            return out

        return two
    if len(src) != 1:
        return None
    name, kind = src[0]
    if kind == "":
        def one(body: Any, ctx: Context) -> Any:
            if type(body) is not dict or name not in body:
                return body
            v = body[name]
            nv = action(v, ctx, name)
            if nv is _SKIP or nv is v:
                return body
            out = body.copy()
            out[name] = nv
            return out

        return one
    if kind == "[]":
        def each(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            items = body.get(name)
            if type(items) is not list:
                return body
            new, changed = [], False
            for i, v in enumerate(items):
                nv = action(v, ctx, f"{name}[{i}]")
                if nv is _SKIP:
                    nv = v
                elif nv is not v:
                    changed = True
                new.append(nv)
            if not changed:
                return body
            out = body.copy()
            out[name] = new
            return out

        return each

    if action is _act_user_id:
        def user_id_keys(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            m = body.get(name)
            if type(m) is not dict or not m:
                return body
            new = {}
            for k, v in m.items():
                if k.startswith(IDENTITY_PREFIX):
                    k = k[20:]
                    if "%" in k:
                        k = unquote(k)
                new[k] = v
            out = body.copy()
            out[name] = new
            return out

        return user_id_keys

    def keys(body: Any, ctx: Context) -> Any:
        if type(body) is not dict:
            return body
        m = body.get(name)
        if type(m) is not dict:
            return body
        new, changed = {}, False
        for k, v in m.items():
            nk = action(k, ctx, name)
            if nk is _SKIP:
                nk = k
            elif nk != k:
                changed = True
            new[nk] = v
        if not changed:
            return body
        out = body.copy()
        out[name] = new
        return out

    return keys


def compile_patch_fact(fact: PatchOpFact, forward: bool) -> Callable[[Any, Context], Any]:
    """R16/R17/R40/R41: rewrite Layer-Patch operations on ``fact.property``."""
    prop = fact.property

    if fact.action == "value_to_id":
        def value_to_id(ops: Any, ctx: Context) -> Any:
            if not isinstance(ops, list):
                return ops
            out, changed = [], False
            for i, op in enumerate(ops):
                if (isinstance(op, dict) and op.get("property") == prop
                        and op.get("operation") in ("add", "remove")):
                    if forward and "value" in op and "id" not in op:
                        v = op["value"]
                        if not isinstance(v, str):
                            raise invalid_property(
                                prop, f"Operation {i} on '{prop}' must carry a user id string as value")
                        if ctx.options.identity_ids_in_requests:
                            op = {"operation": op["operation"], "property": prop, "id": identity_id(v)}
                            changed = True
                    elif not forward and "id" in op and "value" not in op:
                        op = {"operation": op["operation"], "property": prop, "value": user_id_of(op["id"])}
                        changed = True
                out.append(op)
            return out if changed else ops

        return value_to_id

    def set_to_clear_and_add(ops: Any, ctx: Context) -> Any:
        if not isinstance(ops, list) or not forward:
            return ops
        out, changed = [], False
        for op in ops:
            if (isinstance(op, dict) and op.get("property") == prop and op.get("operation") == "set"
                    and isinstance(op.get("value"), list) and op["value"]):
                out.append({"operation": "set", "property": prop, "value": []})
                for i, v in enumerate(op["value"]):
                    if not isinstance(v, str):
                        raise invalid_property(prop, f"Element {i} of the '{prop}' set must be a user id string")
                    if ctx.options.identity_ids_in_requests:
                        out.append({"operation": "add", "property": prop, "id": identity_id(v)})
                    else:
                        out.append({"operation": "add", "property": prop, "value": v})
                changed = True
            else:
                out.append(op)
        return out if changed else ops

    return set_to_clear_and_add
