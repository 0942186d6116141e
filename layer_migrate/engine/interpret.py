"""Fact interpretation: declared facts (``FieldFact``, ``PatchOpFact``, ``RouteFact``,
``MediaTypeFact``) → the callables pipelines run.

Rules mostly *declare* what changes (a field moves, a user id becomes an identity id); this module
is the generic interpreter of those declarations: path parsing, copy-on-write application, the
field actions and their inverses, hand-specialised versions of the common shapes for the hot path,
and the hooks built from route and media-type facts. It knows nothing of pipelines or rule order
(:mod:`.chain` does); the compiled closures run on the hot path with no extra indirection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .. import routes
from ..errors import LayerError, invalid_property, invalid_request
from ..facts import FieldFact, MediaTypeFact, PatchOpFact, RouteFact
from ..identity import IDENTITY_PREFIX, identity_id, user_id_of
from ..prerequisites import EnsureIdentity, EnsureParticipant
from ..rulebook import Context, Step
from ..rulebook.helpers import (
    IDENTITY_ID_CACHE,
    fast_identity_id,
    fast_user_id,
    sender_from_v1,
    sender_to_v1,
)
from ..versions import WEBHOOKS_MEDIA_TYPE, accept_header, media_type_of, version_of, with_version
from .cache import Memo

__all__ = ["Action", "ReqFn", "RouteRewrite", "body_hook", "body_phase", "compile_field_fact",
           "compile_patch_fact", "content_type_phase", "fold_accept", "is_webhooks_endpoint",
           "media_type_hook", "route_hook", "status_hook"]

#: A request/response hook: edits the context, returns whether it changed something.
ReqFn = Callable[[Context], Any]
_PREFIX_LEN = len(IDENTITY_PREFIX)


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


# Actions: (value, ctx, where) -> new value | _SKIP. "where" names the property for errors.
def _act_identity_id(v: Any, ctx: Context, where: str) -> Any:
    if isinstance(v, str):
        if not ctx.options.identity_ids_in_requests:
            return _SKIP
        hit = IDENTITY_ID_CACHE.get(v)
        return hit if hit is not None else fast_identity_id(v)
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
    if isinstance(v, list):  # the 2016 array form, the common one: tested first
        ids = IDENTITY_ID_CACHE
        for i, entry in enumerate(v):
            if not isinstance(entry, dict):
                raise invalid_property(where, f"Property '{where}[{i}]' must be an object")
            if "recipient" in entry and "user_id" not in entry:
                out.append(entry)
                continue
            uid = entry.get("user_id")
            if not isinstance(uid, str):
                raise invalid_property(f"{where}.user_id", f"Property '{where}[{i}].user_id' must be a user id string")
            # {"recipient": ID, **entry} then del: the same keys in the same order as
            # {"recipient": ID, **(entry minus user_id)}, with one dict built instead of two
            new = {"recipient": ids.get(uid) or fast_identity_id(uid), **entry}
            del new["user_id"]
            out.append(new)
        return out
    if isinstance(v, dict):
        for uid, entry in v.items():
            if not isinstance(entry, dict):
                raise invalid_property(where, f"Property '{where}.{uid}' must be an object")
            out.append({"recipient": fast_identity_id(uid), **entry})
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


def _act_sender_from_v1(v: Any, ctx: Context, where: str) -> Any:
    return sender_from_v1(v, ctx)


def _act_remove(v: Any, ctx: Context, where: str) -> Any:  # handled by the caller
    return v


_UP: dict[str, Action] = {
    "identity_id": _act_identity_id, "user_id": _act_user_id, "bot_identity": _act_bot_identity,
    "recipient_overrides": _overrides_up, "sender_object": sender_to_v1, "remove": _act_remove,
}
#: The inverse of each action, for the other direction (None = not invertible: lossy).
_DOWN: dict[str, Action | None] = {
    "identity_id": _act_user_id, "user_id": lambda v, c, w: identity_id(v) if isinstance(v, str) else _SKIP,
    "bot_identity": _act_bot_name, "recipient_overrides": _overrides_down,
    "sender_object": _act_sender_from_v1, "remove": None,
}


#: identity-id keys (``recipient_status``) → user id: the same few ids recur in every message.
_KEY_USER_IDS: Memo[str, str] = Memo(65536)


def _key_user_id(k: str) -> str:
    u = k
    if k.startswith(IDENTITY_PREFIX):
        u = k[_PREFIX_LEN:]
        if "%" in u:
            u = unquote(u)
    return _KEY_USER_IDS.put(k, u)


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

        ids = IDENTITY_ID_CACHE if action is _act_identity_id else None

        def move_ab_c(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            parent = body.get(a)
            if type(parent) is not dict:
                return body
            v = parent.get(b)
            if v is None:
                return body
            # R21 (sender.user_id → sender_id) on every message send: _act_identity_id's cache
            # hit inlined; anything else (a miss, a non-string, the option off) takes the action
            new = ids.get(v) if ids is not None and type(v) is str and ctx.options.identity_ids_in_requests \
                else None
            if new is None:
                new = action(v, ctx, frm_name)
                if new is _SKIP:
                    return body
            out = body.copy()
            if len(parent) == 1:
                del out[a]
            else:  # (a copy and a del: cheaper than a comprehension for the usual 1–2 keys)
                rest = parent.copy()
                del rest[b]
                out[a] = rest
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
            known = _KEY_USER_IDS
            for k, v in m.items():
                u = known.get(k)
                if u is None:
                    u = _key_user_id(k)
                new[u] = v
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


# ---- hooks built from facts ------------------------------------------------------------------
def is_webhooks_endpoint(endpoint: str | None) -> bool:
    """``webhooks.*`` endpoints negotiate the webhooks media type (§1.2, §12.4)."""
    return endpoint is not None and endpoint.startswith("webhooks.")


def body_hook(fn: Callable[[Any, Context], Any]) -> ReqFn:
    def hook(ctx: Context) -> bool:
        new = fn(ctx.body, ctx)
        if new is ctx.body:
            return False
        ctx.body = new
        return True

    return hook


def fold_accept(hooks: list[tuple[str, ReqFn, Step]]) -> Callable[[Context], tuple[str, ...]]:
    """All Accept-only hooks of a pipeline (R01–R04, R53) as one step, cached per Accept value.

    Their result depends only on the Accept header (the pipeline fixes endpoint and versions), so
    the proxy hot path pays one dict lookup instead of re-parsing the header once per rule.
    """
    cache: Memo[str | None, tuple[str | None, tuple[str, ...]]] = Memo(256)

    def accept_phase(ctx: Context) -> tuple[str, ...]:
        acc = ctx.headers.get("accept")
        hit = cache.get(acc)
        if hit is None:
            saved = ctx.headers
            ctx.headers = {"accept": acc} if acc is not None else {}
            ids: list[str] = []
            try:
                for rid, fn, step in hooks:
                    ctx.step = step
                    if fn(ctx) and rid not in ids:
                        ids.append(rid)
                hit = (ctx.headers.get("accept"), tuple(ids))
            finally:
                ctx.headers = saved
            cache.put(acc, hit)
        if hit[0] != acc and hit[0] is not None:
            ctx.headers["accept"] = hit[0]
        return hit[1]

    return accept_phase


def content_type_phase(facts: list[tuple[str, MediaTypeFact, Step]],
                       webhooks: bool) -> Callable[[Context], tuple[str, ...]]:
    """MediaTypeFacts on a response going down: its Content-Type version walks back across each
    step, so a downgraded answer says the client's version (``3.0`` → ``2.0`` → ``1.1``; the
    webhooks media type has no 1.1, so it ends at ``1.0``). ``facts`` are in pipeline (down) order.

    One phase cached per Content-Type value, like :func:`fold_accept`: the result depends only on
    that header once the pipeline has fixed endpoint and versions.
    """
    relevant = [(rid, f.media_type, step) for rid, f, step in facts
                if (f.media_type == WEBHOOKS_MEDIA_TYPE) == webhooks]
    cache: Memo[str, tuple[str, tuple[str, ...]]] = Memo(256)

    def phase(ctx: Context) -> tuple[str, ...]:
        ct = ctx.headers.get("content-type")
        if ct is None:
            return ()
        hit = cache.get(ct)
        if hit is None:
            value, ids = ct, []
            for rid, media, (old, new) in relevant:
                if media_type_of(value) != media or version_of(value, media) != new:
                    continue
                value = with_version(value, "1.0" if webhooks and old == "1.1" else old, media)
                if rid not in ids:
                    ids.append(rid)
            hit = cache.put(ct, (value, tuple(ids)))
        if hit[0] != ct:
            ctx.headers["content-type"] = hit[0]
        return hit[1]

    return phase


def media_type_hook(fact: MediaTypeFact, step: Step, up: bool) -> ReqFn:
    """Generic MediaTypeFact: the Accept version moves across ``step`` (R01–R04, R53)."""
    new_version = step[1] if up else step[0]
    old_versions = fact.from_versions
    media = fact.media_type

    def hook(ctx: Context) -> bool:
        webhooks = is_webhooks_endpoint(ctx.endpoint)
        if (media == WEBHOOKS_MEDIA_TYPE) != webhooks:
            return False
        accept = ctx.headers.get("accept")
        current = version_of(accept, media)
        if current is None and webhooks and media == WEBHOOKS_MEDIA_TYPE:
            current = version_of(accept)  # a webhooks client that sent the platform media type
        if current is None:
            current = ctx.source if not webhooks else "1.0"
        if current == "1.1" and webhooks:
            current = "1.0"
        if current not in old_versions or current == new_version:
            return False
        ctx.headers["accept"] = accept_header(new_version, media)
        return True

    return hook


class RouteRewrite:
    """Generic RouteFact (R38/R39): one v1 call becomes a Layer-Patch call.

    The new method, path and content type depend only on the original path, so a plan computes
    them once (:meth:`target`); only the body (:meth:`body`) depends on the request's body.
    """

    def __init__(self, fact: RouteFact) -> None:
        self.fact = fact
        self.key_param = fact.user_from.split(".", 1)[1] if fact.user_from.startswith("path.") else None
        self._paths: Memo[str, str] = Memo(1024)  # original path → rebuilt path (R13 encoding)

    def target(self, path: str, params: dict[str, str]) -> str:
        """The rebuilt path (query string kept)."""
        new_path = self._paths.get(path)
        if new_path is None:
            kept = {k: v for k, v in params.items() if k in ("app", "user")}
            query = path.split("?", 1)[1] if "?" in path else ""
            new_path = self._paths.put(path, routes.build_path(self.fact.to_endpoint, **kept)
                                       + (f"?{query}" if query else ""))
        return new_path

    def body(self, body: Any, params: dict[str, str]) -> list[dict[str, Any]]:
        """The Layer-Patch body; v1 errors for a body without a usable ``user_id``."""
        fact = self.fact
        if self.key_param is None:
            if body is None or not isinstance(body, dict):
                raise invalid_request("The request body must be a JSON object", data={"property": "user_id"})
            uid = body.get("user_id")
            if uid is None:
                raise LayerError("missing_property", "Object is missing required member 'user_id'",
                                 data={"property": "user_id"})
            if not isinstance(uid, str) or not uid:
                raise invalid_property("user_id", "Property 'user_id' must be a non-empty user id string")
        else:
            uid = params[self.key_param]  # the route matched, so its path parameter is there
        return [{"operation": fact.body_op, "property": fact.property,
                 "id": IDENTITY_ID_CACHE.get(uid) or fast_identity_id(uid)}]

    def apply(self, ctx: Context) -> bool:
        """The rewrite as a pipeline hook (when other hooks share the pipeline)."""
        fact = self.fact
        ctx.body = self.body(ctx.body, ctx.params)
        ctx.path = self.target(ctx.path, ctx.params)
        ctx.method = fact.to_method
        ctx.headers["content-type"] = fact.content_type
        ctx.endpoint = fact.to_endpoint
        return True


def route_hook(fact: RouteFact) -> ReqFn:
    """:class:`RouteRewrite` as a hook; the hook carries it as ``rewrite`` for plans."""
    rewrite = RouteRewrite(fact)

    def hook(ctx: Context) -> bool:
        return rewrite.apply(ctx)

    hook.rewrite = rewrite  # type: ignore[attr-defined]  # read by Engine._request_plan
    return hook


def body_phase(fns: list[tuple[str, Callable[[Any, Context], Any]]]) -> Callable[[Context], tuple[str, ...]]:
    """Adjacent declared body facts of a request pipeline as one hook: the body passes through
    each in order (no hook call and context write per fact); returns the ids that changed it."""

    def phase(ctx: Context) -> tuple[str, ...]:
        body = ctx.body
        changed: tuple[str, ...] = ()
        for rid, fn in fns:
            new = fn(body, ctx)
            if new is not body:
                body = new
                changed += (rid,)
        if changed:
            ctx.body = body
        return changed

    return phase


def status_hook(fact: RouteFact) -> ReqFn:
    v1_status, new_status = fact.status_map  # type: ignore[misc]

    def hook(ctx: Context) -> bool:
        if ctx.status == new_status:
            ctx.status = v1_status
            ctx.body = None
            ctx.headers.pop("content-type", None)
            ctx.headers.pop("content-length", None)
            ctx.note_lossy(fact.rule, f"applied asynchronously upstream ({new_status})")
            return True
        return False

    return hook
