"""User-management endpoints: identities (§3.3/§3.4), user status and PATCH (blocks,
suspension; §9/§10), block lists (§9), badges, sessions and Following (§3.5).

INFERRED choices:

* ``PUT …/identity`` creates the identity when absent (replace = upsert), 204 either way.
* ``identity_type`` (2.0+, any case) and the 2.0-draft ``type`` ("User"/"Bot") are both
  accepted on input from 2.0 on; 1.x rejects them (there were no bots). Stored lowercase.
* Deleting an identity keeps the user (it may still be a participant); the identity GET
  answers 404 afterwards.
* Block-list and suspension PATCHes answer ``202`` but are applied before the answer, so tests
  can read the result at once.
* 2.0+ blocks ops: ``add``/``remove`` by ``id`` (identity id), ``set`` only to clear (§9.2);
  ``--lenient`` accepts ``value`` with a user id and ``set`` with a list.
* ``DELETE …/blocks/:user_id`` at 2.0+ → ``405`` with an empty ``Allow`` header (no method is
  left on that resource); ``POST …/blocks`` → ``405`` with ``Allow: GET`` (app.py).
* Self-blocks are allowed (layer-api's integration suite blocks a user from its own list and
  expects 204; nothing in the spec forbids it; docs/emulator.md).
* ``user_id`` in an identity body is ignored (LayerClient 0.1.10 sends it).
* Badge GET counts unread messages/conversations from ``recipient_status``.
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError, invalid_property, missing_property, not_found
from . import patch as lp
from .common import ensure_user, existing_user, identity_of, unread_count, users_map
from .http import FOLLOWING_PAGE, Ctx, Reply, paginate
from .ids import identity_uri, now, user_of_identity_uri
from .validate import patch_user_operand, user_ref

FIELD_LIMITS = {"display_name": 128, "avatar_url": 1024, "first_name": 128, "last_name": 128,
                "phone_number": 32, "email_address": 255, "public_key": 65536}
IDENTITY_NOT_FOUND = "An Identity with the specified user id could not be found."


# -- identities ------------------------------------------------------------------------------

def _identity_type(ctx: Ctx, body: dict[str, Any]) -> str | None:
    given = [(k, body[k]) for k in ("identity_type", "type") if body.get(k) is not None]
    if not given:
        return None
    key, value = given[0]
    if ctx.v1:
        raise invalid_property(key, f"Property '{key}' is not available in version {ctx.version}")
    if not isinstance(value, str) or value.lower() not in ("user", "bot"):
        raise invalid_property(key, f"Property '{key}' must be 'user' or 'bot'")
    return value.lower()


def _identity_metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_property("metadata", "Identity metadata must be an object of string values")
    if len(value) > 16:
        raise invalid_property("metadata", "Identity metadata has at most 16 keys")
    return dict(value)


def _identity_from_body(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    # ``user_id`` in the body is ignored: the path names the user, and LayerClient 0.1.10's
    # ``replace_identity()`` sends it (evidence the service took it; docs/emulator.md).
    body = {k: v for k, v in body.items() if k != "user_id"}
    unknown = set(body) - set(FIELD_LIMITS) - {"metadata", "identity_type", "type"}
    if unknown:
        prop = sorted(unknown)[0]
        raise invalid_property(prop, f"Unknown identity property '{prop}'")
    if body.get("display_name") is None:
        raise missing_property("display_name")
    ident: dict[str, Any] = {}
    for key, limit in FIELD_LIMITS.items():
        v = body.get(key)
        if v is not None and (not isinstance(v, str) or len(v) > limit):
            raise invalid_property(key, f"Property '{key}' must be a string of at most {limit} characters")
        ident[key] = v
    ident["metadata"] = _identity_metadata(body.get("metadata"))
    ident["identity_type"] = _identity_type(ctx, body) or "user"
    return ident


def identity_create(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    body = ctx.json_object()
    user = ctx.store.user(uid)
    if user is not None and user.get("identity"):
        raise LayerError("id_in_use", f"An Identity already exists for user '{uid}'.", data={"user_id": uid})
    ident = _identity_from_body(ctx, body)
    user = ensure_user(ctx, uid)
    user["identity"] = ident
    user.pop("identity_deleted", None)
    ctx.store.put_user(user)
    ctx.emit("identity.created", user=uid)
    return Reply(201)


def identity_replace(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    ident = _identity_from_body(ctx, ctx.json_object())
    user = ensure_user(ctx, uid)
    user["identity"] = ident
    user.pop("identity_deleted", None)
    ctx.store.put_user(user)
    ctx.emit("identity.updated", user=uid)
    return Reply(204)


def _user_with_identity(ctx: Ctx) -> dict[str, Any]:
    """The path's user with its identity (explicit, or implicit for a 2.0+ participant, R21)."""
    user = existing_user(ctx, ctx.params["user"])
    ident = identity_of(ctx, user)
    if ident is None:
        raise not_found(IDENTITY_NOT_FOUND)
    return dict(user, identity=ident)


def identity_patch(ctx: Ctx) -> Reply:
    user = _user_with_identity(ctx)
    ops = lp.operations(ctx)
    ident = dict(user["identity"])
    for i, op in enumerate(ops):
        where = f"Layer-Patch operation {i}"
        path = lp.split_path(op["property"])
        kind, value = op["operation"], op.get("value")
        if path[0] in FIELD_LIMITS and len(path) == 1:
            if kind != "set":
                raise invalid_property(op["property"], f"{where}: identity fields support only 'set'")
            if path[0] == "display_name" and value is None:
                raise invalid_property("display_name", "display_name cannot be cleared")
            limit = FIELD_LIMITS[path[0]]
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise invalid_property(path[0], f"Property '{path[0]}' must be a string of at most {limit} characters")
            ident[path[0]] = value
        elif path[0] == "metadata":
            if len(path) == 1:
                if kind != "set":
                    raise invalid_property("metadata", f"{where}: use 'set' on metadata")
                ident["metadata"] = _identity_metadata(value)
            elif len(path) == 2:
                meta = dict(ident.get("metadata") or {})
                if kind == "set":
                    if not isinstance(value, str):
                        raise invalid_property(op["property"], "Identity metadata values must be strings")
                    meta[path[1]] = value
                elif kind == "delete":
                    meta.pop(path[1], None)
                else:
                    raise invalid_property(op["property"], f"{where}: metadata supports 'set' and 'delete'")
                ident["metadata"] = _identity_metadata(meta)
            else:
                raise invalid_property(op["property"], "Identity metadata cannot be nested")
        elif path[0] in ("identity_type", "type") and len(path) == 1 and kind == "set":
            ident["identity_type"] = _identity_type(ctx, {path[0]: value}) or ident.get("identity_type")
        else:
            raise invalid_property(op["property"], f"{where}: property '{op['property']}' cannot be patched")
    user["identity"] = ident
    ctx.store.put_user(user)
    ctx.emit("identity.updated", user=user["user_id"])
    return Reply(204)


def identity_get(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.identity(ctx.version, _user_with_identity(ctx)))


def identity_delete(ctx: Ctx) -> Reply:
    user = _user_with_identity(ctx)
    user["identity"] = None
    user["identity_deleted"] = True
    ctx.store.put_user(user)
    ctx.emit("identity.deleted", user=user["user_id"])
    return Reply(204)


# -- user status, suspension, blocks ---------------------------------------------------------

def user_get(ctx: Ctx) -> Reply:
    user = existing_user(ctx, ctx.params["user"])
    return Reply(200, ctx.render.user_status(ctx.version, dict(user, identity=identity_of(ctx, user))))


def user_patch(ctx: Ctx) -> Reply:
    owner = existing_user(ctx, ctx.params["user"])
    uid = owner["user_id"]
    ops = lp.operations(ctx)
    blocks = list(ctx.store.blocked_by(uid))
    suspended = bool(owner.get("suspended"))
    for i, op in enumerate(ops):
        where = f"Layer-Patch operation {i}"
        prop, kind = op["property"], op["operation"]
        if prop == "blocks":
            if not ctx.since("bulk_blocks"):
                raise invalid_property("blocks", f"{where}: block lists are edited with POST/DELETE …/blocks "
                                                 "(bulk manipulation arrived 2015-09-16)")
            if kind == "set":
                value = op.get("value")
                if not isinstance(value, list):
                    raise invalid_property("blocks", f"{where}: 'set' on blocks takes an array")
                if value and not ctx.v1 and not ctx.lenient:
                    raise invalid_property("blocks", f"{where}: in version {ctx.version} 'set' on blocks can "
                                                     "only clear the list (value [])")
                blocks = []
                for v in value:
                    target = user_ref(v, ctx.version, "blocks", lenient=ctx.lenient)
                    if target not in blocks:
                        blocks.append(target)
            elif kind == "add":
                target = patch_user_operand(ctx, op, where, "blocks")
                if target not in blocks:
                    blocks.append(target)
            elif kind == "remove":
                target = patch_user_operand(ctx, op, where, "blocks")
                if target in blocks:
                    blocks.remove(target)
            else:
                raise invalid_property("blocks", f"{where}: 'delete' does not apply to blocks")
        elif prop == "suspended":
            if kind != "set" or not isinstance(op.get("value"), bool):
                raise invalid_property("suspended", f"{where}: 'suspended' takes 'set' with a boolean")
            suspended = op["value"]
        else:
            raise invalid_property(prop, f"{where}: property '{prop}' cannot be patched on a user")
    ctx.store.unblock(uid)
    for target in blocks:
        ensure_user(ctx, target)
        ctx.store.block(uid, target)
    if suspended != bool(owner.get("suspended")):
        owner = ctx.store.user(uid) or owner
        owner["suspended"] = suspended
        ctx.store.put_user(owner)
    return Reply(202)


def blocks_list(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    blocked = ctx.store.blocked_by(uid)
    if ctx.v1:
        return Reply(200, [{"user_id": b} for b in blocked])
    users = users_map(ctx, blocked)
    return Reply(200, [ctx.render.basic_identity(b, users) for b in blocked])


def blocks_create(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    body = ctx.json_object()
    target = body.get("user_id")
    if target is None:
        raise missing_property("user_id")
    if not isinstance(target, str) or not target:
        raise invalid_property("user_id", "Property 'user_id' must be a non-empty string")
    ensure_user(ctx, target)
    ctx.store.block(uid, target)
    return Reply(204)


def blocks_delete(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    ctx.store.unblock(uid, ctx.params["blocked"])
    return Reply(204)


# -- badges and sessions ---------------------------------------------------------------------

def badge_put(ctx: Ctx) -> Reply:
    user = existing_user(ctx, ctx.params["user"])
    body = ctx.json_object()
    count = body.get("external_unread_count")
    if count is None:
        raise missing_property("external_unread_count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise invalid_property("external_unread_count", "external_unread_count must be a non-negative integer")
    user["badge"] = count
    ctx.store.put_user(user)
    return Reply(204)


def badge_get(ctx: Ctx) -> Reply:
    user = existing_user(ctx, ctx.params["user"])
    uid = user["user_id"]
    counts = [unread_count(ctx, c["uuid"], uid) for c in ctx.store.conversations_of(uid)]
    return Reply(200, {"external_unread_count": user.get("badge", 0),
                       "unread_conversation_count": sum(1 for c in counts if c),
                       "unread_message_count": sum(counts)})


def sessions_delete(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    ctx.store.add_session_reset({"user_id": uid, "at": now()})
    return Reply(204)


# -- following (2.0+) ------------------------------------------------------------------------

def following_put(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    followed = ctx.params["followed"]
    ensure_user(ctx, followed)
    ctx.store.follow(uid, followed)
    return Reply(204)


def following_delete(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    ctx.store.unfollow(uid, ctx.params["followed"])
    return Reply(204)


def following_get(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    if ctx.params["followed"] in ctx.store.followed_by(uid):
        return Reply(204)
    raise not_found(f"User {uid} does not follow {ctx.params['followed']}.")


def following_batch(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    body = ctx.json()
    if not isinstance(body, list):
        raise invalid_property("following", "The body must be an array of Layer Identity IDs")
    targets = [user_ref(v, ctx.version, "following", lenient=ctx.lenient) for v in body]
    for t in targets:
        ensure_user(ctx, t)
        ctx.store.follow(uid, t)
    return Reply(202)


def _from_identity(ctx: Ctx) -> None:
    from_id = ctx.query.get("from_id")
    if from_id:
        ctx.query["from_id"] = user_of_identity_uri(from_id) or from_id


def following_list(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    followed = ctx.store.followed_by(uid)
    _from_identity(ctx)
    page, headers = paginate(followed, followed, ctx, FOLLOWING_PAGE)
    return Reply(200, [identity_uri(f) for f in page], headers)


def following_identities(ctx: Ctx) -> Reply:
    uid = existing_user(ctx, ctx.params["user"])["user_id"]
    followed = ctx.store.followed_by(uid)
    _from_identity(ctx)
    users = users_map(ctx, followed)
    with_identity = [f for f in followed if (users.get(f) or {}).get("identity")]
    page, headers = paginate(with_identity, with_identity, ctx, FOLLOWING_PAGE)
    return Reply(200, [ctx.render.identity(ctx.version, users[f]) for f in page], headers)
