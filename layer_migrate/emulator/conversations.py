"""Conversation endpoints (spec §4): create with distinct semantics, get, per-user lists,
Layer-Patch of participants and metadata, delete.

INFERRED choices:

* ``distinct`` defaults to ``true`` (Layer's documented default for created conversations);
  ``Emulator(distinct_default=False)`` flips it.
* A distinct match answers ``200`` without a ``Location`` header (§4.2 leaves it open;
  ``distinct_location=True`` adds it).
* Unknown request properties are rejected (``422 invalid_property``) — strict by design.
* At most ``max_participants`` (25, Client API docs) participants; a participant who blocked
  another participant → ``422 participant_blocked`` (§9 terms; ``enforce_blocks=False`` skips
  the check).
* 2.0+ ``set`` on participants may only clear (``value: []``, §4.4); ``--lenient`` accepts a list.
* Any participant change makes the conversation non-distinct (§4.2).
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError, invalid_property, missing_property
from . import patch as lp
from .common import (
    conversation_any,
    ensure_user,
    existing_user,
    live_conversation,
    unread_count,
    user_conversation,
    users_map,
)
from .http import Ctx, Reply, paginate
from .ids import new_uuid, now, uuid_from
from .settings import EmulatedFailure
from .validate import boolean, metadata, patch_user_operand, user_list

CREATE_KEYS = {"participants", "distinct", "metadata", "significance"}


def _check_blocks(ctx: Ctx, participants: list[str]) -> None:
    if not ctx.settings.enforce_blocks:
        return
    pair = ctx.store.is_blocked_between(participants)
    if pair:
        raise LayerError("participant_blocked",
                         "A participant of this conversation is blocked by another participant.",
                         data={"owner": ctx.render.identity_ref(ctx.version, pair[0]),
                               "blocked": ctx.render.identity_ref(ctx.version, pair[1])})


def render(ctx: Ctx, conv: dict[str, Any], user: str | None = None) -> dict[str, Any]:
    users = users_map(ctx, conv["participants"])
    if user is None:
        out = ctx.render.conversation(ctx.version, conv, users)
    else:
        last = ctx.store.last_message(conv["uuid"])
        if last is not None:
            users.update(users_map(ctx, [last["sender"].get("user_id")]))
        out = ctx.render.conversation(ctx.version, conv, users, user=user,
                                      unread=unread_count(ctx, conv["uuid"], user), last_message=last)
        if user in conv.get("rejoined", ()) and not ctx.since("rejoin_full_list"):
            out["participants"] = []  # the bug fixed on 2016-08-30
    if not ctx.since("messages_url"):
        out.pop("messages_url", None)  # added 2015-10-09
    return out


def create(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    unknown = set(body) - CREATE_KEYS
    if unknown:
        prop = sorted(unknown)[0]
        raise invalid_property(prop, f"Unknown conversation property '{prop}'")
    if body.get("participants") is None:
        if body.get("metadata") is not None and not ctx.since("metadata_no_participants"):
            raise EmulatedFailure("conversation with metadata and no participants (fixed 2015-08-02)")
        raise missing_property("participants")
    participants = user_list(body["participants"], ctx.version, "participants", lenient=ctx.lenient)
    if len(participants) > ctx.settings.max_participants:
        raise invalid_property("participants", f"A conversation has at most {ctx.settings.max_participants} participants")
    distinct = boolean(body, "distinct", ctx.settings.distinct_default)
    meta = metadata(body.get("metadata"))
    if distinct and meta is not None and not ctx.since("distinct_metadata"):
        raise invalid_property("metadata", "Distinct conversations cannot be created with metadata")
    significance = body.get("significance")
    if significance is not None and (ctx.version != "3.0" or not isinstance(significance, dict)):
        raise invalid_property("significance", "Property 'significance' is a 3.0 object")
    _check_blocks(ctx, participants)
    for uid in participants:
        ensure_user(ctx, uid)
    key = "\x1f".join(sorted(participants)) if distinct else None
    if key is not None:
        existing = ctx.store.find_distinct(key)
        if existing is not None:
            if meta is None or meta == existing.get("metadata"):
                location = {"location": f"/apps/{ctx.render.app_id}/conversations/{existing['uuid']}"}
                if not ctx.since("distinct_200"):
                    return Reply(303, render(ctx, existing), location)  # before 2015-09-16
                return Reply(200, render(ctx, existing), location if ctx.settings.distinct_location else {})
            raise LayerError("conflict", "The requested Distinct Conversation was found but had metadata "
                                         "that did not match your request.", data=render(ctx, existing))
    conv = {"uuid": new_uuid(), "created_at": now(), "participants": participants, "distinct": distinct,
            "metadata": meta, "distinct_key": key, "deleted_at": None}
    if significance is not None:
        conv["significance"] = significance
    ctx.store.put_conversation(conv)
    ctx.emit("conversation.created", conversation=conv["uuid"])
    if meta is not None and not ctx.since("atomic_metadata_create"):
        # before 2015-12-29 the metadata arrived as a separate update webhook
        ctx.emit("conversation.updated", conversation=conv["uuid"],
                 changes=[{"property": "metadata", "before": None, "after": meta}])
    return Reply(201, render(ctx, conv))


def get(ctx: Ctx) -> Reply:
    return Reply(200, render(ctx, live_conversation(ctx)))


def delete(ctx: Ctx) -> Reply:
    conv = conversation_any(ctx)
    if conv.get("deleted_at") and not ctx.since("delete_deleted_ok"):
        raise LayerError("object_deleted", "The referenced conversation has been deleted.")
    if not conv.get("deleted_at"):
        conv["deleted_at"] = now()
        conv["distinct_key"] = None
        ctx.store.put_conversation(conv)
        ctx.emit("conversation.deleted", conversation=conv["uuid"])
    return Reply(204)


def _participant_op(ctx: Ctx, op: dict[str, Any], where: str) -> Any:
    """The user id(s) an add/remove/set on ``participants`` names, per version (§4.4, R16/R17)."""
    kind = op["operation"]
    if kind == "delete":
        raise invalid_property("participants", f"{where}: 'delete' does not apply to participants")
    if kind == "set":
        value = op.get("value")
        if not isinstance(value, list):
            raise invalid_property("participants", f"{where}: 'set' on participants takes an array")
        if value and not ctx.v1 and not ctx.lenient:
            raise invalid_property("participants", f"{where}: in version {ctx.version} 'set' on participants "
                                                   "can only clear the list (value []); add identities with "
                                                   "'add' and 'id'")
        return user_list(value, ctx.version, "participants", lenient=ctx.lenient, allow_empty=True)
    return patch_user_operand(ctx, op, where, "participants")


def patch(ctx: Ctx) -> Reply:
    conv = live_conversation(ctx)
    ops = lp.operations(ctx)
    participants = list(conv["participants"])
    meta = conv.get("metadata")
    meta = dict(meta) if isinstance(meta, dict) else meta
    touched_participants = touched_metadata = False
    for i, op in enumerate(ops):
        where = f"Layer-Patch operation {i}"
        path = lp.split_path(op["property"])
        if path[0] == "participants" and len(path) == 1:
            if not ctx.since("patch_participants"):
                raise invalid_property("participants", f"{where}: participants cannot be patched (before 2015-06-05)")
            target = _participant_op(ctx, op, where)
            if op["operation"] == "set":
                participants = list(target)
            elif op["operation"] == "add":
                if target not in participants:
                    participants.append(target)
            elif target in participants:
                participants.remove(target)
            touched_participants = True
        elif path[0] == "metadata":
            if not ctx.since("patch_metadata"):
                raise invalid_property("metadata", f"{where}: metadata cannot be patched (before 2015-06-23)")
            kind = op["operation"]
            if kind in ("add", "remove"):
                raise invalid_property(op["property"], f"{where}: metadata supports only 'set' and 'delete'")
            if len(path) == 1:
                if kind == "delete":
                    raise invalid_property("metadata", f"{where}: use 'set' to null to clear metadata")
                meta = metadata(op.get("value"))
                meta = dict(meta) if meta is not None else None
            else:
                if meta is None:
                    meta = {}
                if kind == "set":
                    value = op.get("value")
                    if isinstance(value, dict):
                        metadata(value, op["property"])
                    elif not isinstance(value, str):
                        raise invalid_property(op["property"], "Metadata values must be strings or objects")
                    lp.set_path(meta, path[1:], value)
                else:
                    lp.delete_path(meta, path[1:])
            touched_metadata = True
        else:
            raise invalid_property(op["property"], f"{where}: property '{op['property']}' cannot be patched")
    if len(participants) > ctx.settings.max_participants:
        raise invalid_property("participants", f"A conversation has at most {ctx.settings.max_participants} participants")
    changes: list[dict[str, Any]] = []
    if touched_participants:
        added = [u for u in participants if u not in conv["participants"]]
        removed = [u for u in conv["participants"] if u not in participants]
        if added:
            _check_blocks(ctx, participants)
        for uid in added:
            ensure_user(ctx, uid)
        rejoined = [u for u in added if u in conv.get("left", ())]
        if rejoined:
            conv["rejoined"] = sorted(set(conv.get("rejoined", [])) | set(rejoined))
        if added or removed:
            changes.append({"property": "participants", "added": added, "removed": removed})
            conv["participants"] = participants
            conv["distinct"] = False
            conv["distinct_key"] = None
    if touched_metadata and meta != conv.get("metadata"):
        changes.append({"property": "metadata", "before": conv.get("metadata"), "after": meta})
        conv["metadata"] = meta
    if changes:
        ctx.store.put_conversation(conv)
        ctx.emit("conversation.updated", conversation=conv["uuid"], changes=changes)
    return Reply(204)


def user_list_conversations(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    sort_by = ctx.query.get("sort_by", "created_at")
    if sort_by not in ("created_at", "last_message"):
        raise invalid_property("sort_by", "sort_by must be 'created_at' or 'last_message'")
    convs = ctx.store.conversations_of(uid)
    if sort_by == "created_at":
        convs.sort(key=lambda c: c["seq"], reverse=True)
    else:
        def last_key(c: dict[str, Any]) -> int:
            m = ctx.store.last_message(c["uuid"])
            return m["seq"] if m else c["seq"]
        convs.sort(key=last_key, reverse=True)
    from_id = ctx.query.get("from_id")
    if from_id:
        ctx.query["from_id"] = uuid_from(from_id, "conversations") or from_id
    page, headers = paginate(convs, [c["uuid"] for c in convs], ctx)
    return Reply(200, [render(ctx, c, user=uid) for c in page], headers)


def user_leave(ctx: Ctx) -> Reply:
    """``DELETE /apps/:app/users/:uid/conversations/:cid?mode=…`` (spec §11, Client API).

    ``mode=all_participants`` deletes the conversation for everyone; ``mode=my_devices&leave=true``
    removes the user from the participants (a ``conversation.updated`` webhook); ``mode=my_devices``
    alone only clears it from the user's devices, which a server cannot observe (204, no change).
    """
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    conv = user_conversation(ctx, uid)
    mode = ctx.query.get("mode")
    if mode not in ("all_participants", "my_devices"):
        raise invalid_property("mode", "mode must be 'all_participants' or 'my_devices'")
    if mode == "all_participants":
        conv["deleted_at"] = now()
        conv["distinct_key"] = None
        ctx.store.put_conversation(conv)
        ctx.emit("conversation.deleted", conversation=conv["uuid"])
        return Reply(204)
    if ctx.query.get("leave", "false").lower() == "true":
        conv["participants"] = [u for u in conv["participants"] if u != uid]
        conv["left"] = sorted(set(conv.get("left", [])) | {uid})
        conv["distinct"] = False
        conv["distinct_key"] = None
        ctx.store.put_conversation(conv)
        ctx.emit("conversation.updated", conversation=conv["uuid"],
                 changes=[{"property": "participants", "added": [], "removed": [uid]}])
    return Reply(204)


def user_get_conversation(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    return Reply(200, render(ctx, user_conversation(ctx, uid), user=uid))
