"""Message endpoints (spec §5): send (single, delayed, 3.0 batch), list/get from the system and
a user's perspective, delete, receipts, mark_all_read and the 3.0 part endpoints.

INFERRED choices:

* A 2.0+ ``sender_id`` may be any user with an Identity, and a participant has one implicitly
  (R21, ``common.identity_of``).
* A 1.x ``sender.user_id`` need not be a participant (2.0+ accepts any existing identity as
  ``sender_id``, so both paths agree); the sender user is created implicitly in 1.x.
* ``recipient_status`` covers the participants at send time: the sender's own entry is ``read``
  (since 2015-11-18), others ``sent``; a sender who is not a participant does not appear.
* Both ``sender.user_id`` and ``sender.name`` → ``422 invalid_property`` (R23); a suspended
  sender → ``403 user_suspended`` (6); a 2.0+ ``sender_id`` without an Identity → ``422
  invalid_property`` ``sender_id``; a 2.0+ body with a v1 ``sender`` object → ``422
  missing_property`` ``sender_id`` (R21).
* Delayed messages (``schedule``) and 3.0 batches answer ``202`` (OBS v3) with the message(s);
  a delayed message really waits (``sent_at`` = now + delay by the injectable clock): it is
  invisible until then, and never sent if its conversation is deleted or its user sender is
  removed meanwhile (§5.5; ``release_due``). Recipients are the participants at delivery time.
* Part endpoints exist in 3.0 only (routes table): POST → 201 part, PUT part → 200 part,
  PUT parts → 200 parts array, DELETE → 204 (the last part cannot be removed: 422
  ``invalid_operation``). Every change bumps the message's and part's ``updated_at``.
* Receipts: ``delivery`` moves ``sent`` → ``delivered``; ``read`` → ``read``; never backwards.
  Only participants have a status to change (others → 404 as the message is not visible).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import LayerError, invalid_property, invalid_request, missing_property
from .common import (
    ensure_user,
    existing_user,
    identity_of,
    live_conversation,
    message_any,
    message_in,
    user_conversation,
    users_map,
)
from .http import Ctx, Reply, page_params
from .ids import new_uuid, now, uuid_from
from .validate import assign_part_ids, notification, part, parts, reject_unknown_keys, user_ref

#: Store keys of delayed messages waiting for their time, and of those never sent (§5.5).
SCHEDULED = "scheduled_messages"
DROPPED = "dropped_messages"
V1_KEYS = {"sender", "parts", "notification", "schedule"}
V2_KEYS = {"sender_id", "parts", "notification", "schedule"}


def render(ctx: Ctx, msg: dict[str, Any], *, user: str | None = None, url_kind: str = "get") -> dict[str, Any]:
    users = users_map(ctx, [msg["sender"].get("user_id")])
    out = ctx.render.message(ctx.version, msg, users, user=user, url_kind=url_kind)
    if (ctx.version == "2.0" and ctx.since("message_updating_2_0")
            and msg.get("updated_at") and msg["updated_at"] != msg["sent_at"]):
        # 2.0 message updating (2017-09-28): INFERRED that 2.0 shows updated_at once a message was
        # updated (the preview docs list the field, not when it is present; docs/emulator.md)
        out["updated_at"] = msg["updated_at"]
    return out


def _decoded_echo(rendered: dict[str, Any]) -> None:
    """OBS (v1.0, Feb 2016): a base64 part came back decoded, without ``encoding``."""
    for p in rendered["parts"]:
        if p.get("encoding") == "base64":
            try:
                p["body"] = base64.b64decode(p["body"]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                continue
            del p["encoding"]


def sender_of(ctx: Ctx, body: dict[str, Any], *, announcement: bool = False) -> dict[str, Any]:
    """The neutral sender ``{"user_id": U}`` or ``{"name": N}`` of a send body (§5.2, §6)."""
    if ctx.v1:
        sender = body.get("sender")
        if sender is None:
            raise missing_property("sender")
        # Message texts match the engine's local v1 refusals (R23/R35), so a v1 client sees the
        # same error directly and through the proxy.
        if not isinstance(sender, dict):
            raise invalid_property("sender", "Property 'sender' must be an object with 'user_id' or 'name'")
        # Profile keys beside user_id/name are ignored: LayerClient 0.1.10 sends its whole
        # Sender (display_name, avatar_url, ...) as ``sender`` (docs/emulator.md).
        uid, name = sender.get("user_id"), sender.get("name")
        if uid is not None and name is not None and not ctx.since("sender_both_error"):
            name = None  # before 2015-07-10 both were taken: the user id won
        if uid is not None and name is not None:
            raise invalid_property("sender", "Only one of 'sender.name' and 'sender.user_id' may be given")
        if uid is None and name is None:
            raise LayerError("missing_property", "Object is missing required member 'sender.user_id' or "
                             "'sender.name'", data={"property": "sender"})
        if announcement and uid is not None:
            raise invalid_property("sender.user_id", "Announcements are sent with 'sender.name'; "
                                                     "'sender.user_id' is not allowed")
        if uid is not None:
            if not isinstance(uid, str) or not uid:
                raise invalid_property("sender", "sender.user_id must be a non-empty string")
            user = ensure_user(ctx, uid)
            if user.get("suspended"):
                raise LayerError("user_suspended", f"User {uid} is suspended and cannot send messages.")
            return {"user_id": uid}
        if not isinstance(name, str) or not name:
            raise invalid_property("sender", "sender.name must be a non-empty string")
        return {"name": name}
    ref = body.get("sender_id")
    if ref is None:
        raise missing_property("sender_id")
    uid = user_ref(ref, ctx.version, "sender_id", lenient=ctx.lenient)
    user = ctx.store.user(uid)
    if identity_of(ctx, user) is None:
        raise invalid_property("sender_id", f"An Identity must exist to use it as the sender_id ({ref})")
    assert user is not None
    if user.get("suspended"):
        raise LayerError("user_suspended", f"User {uid} is suspended and cannot send messages.")
    return {"user_id": uid}


def _schedule(value: Any, *, in_batch: bool = False) -> float | None:
    """``schedule`` of §5.5; inside a 3.0 batch delays are relative and may be 0 (§5.6)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_property("schedule", "Property 'schedule' must be an object")
    delay = value.get("delay_in_seconds")
    if delay is None:
        raise missing_property("delay_in_seconds", "schedule")
    low = 0.0 if in_batch else 1.0
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not low <= delay <= 300.0:
        raise invalid_property("schedule", f"schedule.delay_in_seconds must be a number from {low} to 300.0")
    typing = value.get("typing_indicator_in_seconds")
    if typing is not None and (isinstance(typing, bool) or not isinstance(typing, (int, float))
                               or not 1.0 <= typing <= min(300.0, delay)):
        raise invalid_property("schedule", "schedule.typing_indicator_in_seconds must be from 1.0 to the delay")
    if set(value) - {"delay_in_seconds", "typing_indicator_in_seconds"}:
        raise invalid_property("schedule", "Property 'schedule' has unknown keys")
    return float(delay)


def _draft(ctx: Ctx, conv: dict[str, Any], body: Any, in_batch: bool) -> tuple[dict[str, Any], float | None]:
    if not isinstance(body, dict):
        raise invalid_request("A message must be a JSON object.")
    reject_unknown_keys(ctx, body, V1_KEYS if ctx.v1 else V2_KEYS, "message")
    sender = sender_of(ctx, body)
    neutral_parts = parts(body.get("parts"), ctx.version, allow_ids=ctx.version == "3.0",
                          content_exists=lambda c: ctx.store.content(c) is not None, since=ctx.since)
    note = notification(body.get("notification"), ctx.version, lenient=ctx.lenient)
    if body.get("schedule") is not None and not ctx.since("delayed_messages"):
        raise invalid_property("schedule", f"Unknown message property 'schedule' in version {ctx.version}")
    delay = _schedule(body.get("schedule"), in_batch=in_batch)
    return {"sender": sender, "parts": neutral_parts, "notification": note}, delay


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _build(ctx: Ctx, conv: dict[str, Any], draft: dict[str, Any], when: datetime) -> dict[str, Any]:
    stamp = _stamp(when)
    assign_part_ids(draft["parts"])
    for p in draft["parts"]:
        p["updated_at"] = stamp
    sender_uid = draft["sender"].get("user_id")
    own = "read" if ctx.since("sender_read") else "sent"  # 2015-11-18
    status = {u: (own if u == sender_uid else "sent") for u in conv["participants"]}
    return {"uuid": new_uuid(), "conversation": conv["uuid"], "sent_at": stamp, "updated_at": stamp,
            "sender": draft["sender"], "parts": draft["parts"], "recipient_status": status,
            "notification": draft["notification"], "deleted_at": None}


def _commit(store: Any, emit: Any, conv: dict[str, Any], msg: dict[str, Any], version: str) -> None:
    """Store a built message, its push request and its webhook event."""
    store.put_message(msg)
    note, sender_uid = msg["notification"], msg["sender"].get("user_id")
    if note is not None:
        store.add_notification({
            "source": "message", "message": f"layer:///messages/{msg['uuid']}", "created_at": msg["sent_at"],
            "recipients": [u for u in conv["participants"] if u != sender_uid],
            "notification": note["root"], "overrides": note["overrides"], "version": version})
    emit("message.sent", message=msg["uuid"])


def release_due(ctx: Ctx) -> None:
    """Send the delayed messages whose time has come (§5.5), inside the current transaction.

    A message is dropped instead (kept in ``emu.store.get_kv("dropped_messages")``) when its
    conversation was deleted or its user sender is no longer a participant meanwhile.
    """
    settings = ctx.settings
    clock = settings.clock()
    if settings.next_due is None or clock < settings.next_due:
        return
    pending = ctx.store.get_kv(SCHEDULED) or []
    due = [e for e in pending if e["due"] <= clock]
    waiting = [e for e in pending if e["due"] > clock]
    settings.next_due = min((e["due"] for e in waiting), default=None)
    if not due:
        return
    ctx.store.put_kv(SCHEDULED, waiting)
    dropped = ctx.store.get_kv(DROPPED) or []
    for entry in sorted(due, key=lambda e: e["due"]):
        msg = entry["message"]
        conv = ctx.store.conversation(msg["conversation"])
        sender_uid = msg["sender"].get("user_id")
        if conv is None or conv.get("deleted_at"):
            dropped.append({"message": msg["uuid"], "reason": "conversation deleted"})
            continue
        if sender_uid is not None and sender_uid not in conv["participants"]:
            dropped.append({"message": msg["uuid"], "reason": "sender removed"})
            continue
        # recipients are the participants at delivery time
        own = msg["recipient_status"].get(sender_uid, "read")
        msg["recipient_status"] = {u: (own if u == sender_uid else "sent") for u in conv["participants"]}
        _commit(ctx.store, ctx.emit, conv, msg, entry["version"])
    ctx.store.put_kv(DROPPED, dropped)


def send(ctx: Ctx) -> Reply:
    conv = live_conversation(ctx)
    body = ctx.json()
    batch = isinstance(body, list)
    if batch:
        if ctx.version != "3.0":
            raise invalid_request(f"Batch messaging (an array body) is not available in version {ctx.version}.")
        if not body:
            raise invalid_request("A batch of messages must not be empty.")
    elif not isinstance(body, dict):
        raise invalid_request("Request body must be a JSON object.")
    drafts = [_draft(ctx, conv, b, batch) for b in (body if batch else [body])]
    now_s = ctx.settings.clock()
    start = datetime.fromtimestamp(now_s, timezone.utc)
    offset = 0.0
    created = []
    scheduled = ctx.store.get_kv(SCHEDULED) or []
    for draft, delay in drafts:
        offset += delay or 0.0
        msg = _build(ctx, conv, draft, start + timedelta(seconds=offset))
        if offset > 0:
            # a delayed message really waits: invisible until its time (release_due)
            scheduled.append({"due": now_s + offset, "message": msg, "version": ctx.version})
        else:
            _commit(ctx.store, ctx.emit, conv, msg, ctx.version)
        created.append(msg)
    if offset > 0:
        ctx.store.put_kv(SCHEDULED, scheduled)
        first = min(e["due"] for e in scheduled)
        ctx.settings.next_due = first if ctx.settings.next_due is None else min(first, ctx.settings.next_due)
    rendered = [render(ctx, m, url_kind="send") for m in created]
    if not ctx.since("explicit_nulls"):
        for r in rendered:
            _decoded_echo(r)
    if batch:
        return Reply(202, rendered)
    if drafts[0][1] is not None:
        return Reply(202, rendered[0])
    return Reply(201, rendered[0])


def _page(ctx: Ctx, conv: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A page of messages, newest first, after ``from_id`` (§1.7), read with LIMIT from SQLite."""
    size, from_id = page_params(ctx)
    before = None
    if from_id is not None:
        anchor_uuid = uuid_from(from_id, "messages")
        anchor = ctx.store.message(anchor_uuid) if anchor_uuid else None
        if anchor is None or anchor["conversation"] != conv["uuid"]:
            raise invalid_property("from_id", f"from_id {from_id!r} does not name a message of this conversation")
        before = anchor["seq"]
    page = ctx.store.messages_page(conv["uuid"], before, size)
    return page, {"layer-count": str(ctx.store.count_messages(conv["uuid"]))}


def list_(ctx: Ctx) -> Reply:
    conv = live_conversation(ctx)
    page, headers = _page(ctx, conv)
    return Reply(200, [render(ctx, m) for m in page], headers)


def get(ctx: Ctx) -> Reply:
    conv = live_conversation(ctx)
    return Reply(200, render(ctx, message_in(ctx, conv)))


def delete(ctx: Ctx) -> Reply:
    conv = live_conversation(ctx)
    msg = message_in(ctx, conv)
    msg["deleted_at"] = now()
    ctx.store.put_message(msg)
    ctx.emit("message.deleted", message=msg["uuid"])
    return Reply(204)


def user_list(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    conv = user_conversation(ctx, uid)
    page, headers = _page(ctx, conv)
    return Reply(200, [render(ctx, m, user=uid) for m in page], headers)


def _visible(ctx: Ctx, uid: str) -> dict[str, Any]:
    msg = message_any(ctx)
    conv = ctx.store.conversation(msg["conversation"])
    if conv is None or conv.get("deleted_at") or uid not in conv["participants"]:
        raise LayerError("not_found", "A Message with the specified identifier could not be found.")
    return msg


def user_get(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    return Reply(200, render(ctx, _visible(ctx, uid), user=uid))


_RANK = {"sent": 0, "delivered": 1, "read": 2}


def _receipt(ctx: Ctx, msg: dict[str, Any], uid: str, kind: str) -> bool:
    status = "read" if kind == "read" else "delivered"
    current = msg["recipient_status"].get(uid)
    if current is None or _RANK[current] >= _RANK[status]:
        return False
    msg["recipient_status"][uid] = status
    msg.setdefault("received_at", {}).setdefault(uid, now())
    ctx.store.put_message(msg)
    ctx.emit("receipt", message=msg["uuid"], user=uid, receipt=kind)
    return True


def receipt(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    msg = _visible(ctx, uid)
    body = ctx.json_object()
    kind = body.get("type")
    if kind is None:
        raise missing_property("type")
    if kind not in ("read", "delivery"):
        raise invalid_property("type", "Receipt type must be 'read' or 'delivery'")
    _receipt(ctx, msg, uid, kind)
    return Reply(204)


def mark_all_read(ctx: Ctx) -> Reply:
    uid = ctx.params["user"]
    existing_user(ctx, uid)
    conv = user_conversation(ctx, uid)
    for msg in reversed(ctx.store.messages_in(conv["uuid"])):
        _receipt(ctx, msg, uid, "read")
    return Reply(204)


# -- 3.0 part endpoints ----------------------------------------------------------------------

def _message_for_parts(ctx: Ctx) -> tuple[dict[str, Any], str]:
    conv = live_conversation(ctx)
    msg = message_in(ctx, conv)
    return msg, f"{ctx.render.app_url}/conversations/{conv['uuid']}/messages/{msg['uuid']}"


def _render_part(ctx: Ctx, msg: dict[str, Any], p: dict[str, Any], url: str) -> dict[str, Any]:
    return ctx.render.part(ctx.version, "messages", msg["uuid"], msg["parts"].index(p), p, url)


def _find_part(ctx: Ctx, msg: dict[str, Any]) -> dict[str, Any]:
    puuid = ctx.params["part"].rsplit("/", 1)[-1].lower()
    if ctx.version != "3.0" and puuid.isdigit() and int(puuid) < len(msg["parts"]):
        return msg["parts"][int(puuid)]  # 2.0 names parts by index (§5.4); the UUID form works too
    for p in msg["parts"]:
        if p["uuid"] == puuid:
            return p
    raise LayerError("not_found", "A MessagePart with the specified identifier could not be found.")


def _touch(ctx: Ctx, msg: dict[str, Any], *changed: dict[str, Any]) -> None:
    stamp = now()
    msg["updated_at"] = stamp
    for p in changed:
        p["updated_at"] = stamp
    ctx.store.put_message(msg)


def parts_list(ctx: Ctx) -> Reply:
    msg, url = _message_for_parts(ctx)
    return Reply(200, [_render_part(ctx, msg, p, url) for p in msg["parts"]])


def parts_get(ctx: Ctx) -> Reply:
    msg, url = _message_for_parts(ctx)
    return Reply(200, _render_part(ctx, msg, _find_part(ctx, msg), url))


def _one_part(ctx: Ctx, body: Any, msg: dict[str, Any]) -> dict[str, Any]:
    seen = {p["uuid"] for p in msg["parts"]}
    p = part(body, "part", ctx.version, allow_ids=True, seen=seen,
             content_exists=lambda c: ctx.store.content(c) is not None)
    assign_part_ids([p])
    return p


def parts_create(ctx: Ctx) -> Reply:
    msg, url = _message_for_parts(ctx)
    p = _one_part(ctx, ctx.json_object(), msg)
    msg["parts"].append(p)
    _touch(ctx, msg, p)
    ctx.emit("part.created", message=msg["uuid"], part=p["uuid"])
    return Reply(201, _render_part(ctx, msg, p, url))


def parts_update(ctx: Ctx) -> Reply:
    msg, url = _message_for_parts(ctx)
    old = _find_part(ctx, msg)
    body = ctx.json_object()
    if body.get("id") is not None and str(body["id"]).rsplit("/", 1)[-1].lower() != old["uuid"]:
        raise invalid_property("id", "The part id in the body does not match the path")
    body = {k: v for k, v in body.items() if k != "id"}
    new = part(body, "part", ctx.version, allow_ids=False, content_exists=lambda c: ctx.store.content(c) is not None)
    new["uuid"] = old["uuid"]
    msg["parts"][msg["parts"].index(old)] = new
    _touch(ctx, msg, new)
    ctx.emit("part.updated", message=msg["uuid"], part=new["uuid"])
    return Reply(200, _render_part(ctx, msg, new, url))


def parts_replace_all(ctx: Ctx) -> Reply:
    msg, url = _message_for_parts(ctx)
    body = ctx.json()
    new_parts = parts(body, ctx.version, allow_ids=True, content_exists=lambda c: ctx.store.content(c) is not None)
    assign_part_ids(new_parts)
    old_ids = {p["uuid"] for p in msg["parts"]}
    new_ids = {p["uuid"] for p in new_parts}
    msg["parts"] = new_parts
    _touch(ctx, msg, *new_parts)
    for pid in sorted(old_ids - new_ids):
        ctx.emit("part.deleted", message=msg["uuid"], part=pid)
    for p in new_parts:
        ctx.emit("part.updated" if p["uuid"] in old_ids else "part.created", message=msg["uuid"], part=p["uuid"])
    return Reply(200, [_render_part(ctx, msg, p, url) for p in new_parts])


def parts_delete(ctx: Ctx) -> Reply:
    msg, _url = _message_for_parts(ctx)
    p = _find_part(ctx, msg)
    if len(msg["parts"]) == 1:
        raise LayerError("invalid_operation", "A message must keep at least one part.")
    msg["parts"].remove(p)
    _touch(ctx, msg)
    ctx.emit("part.deleted", message=msg["uuid"], part=p["uuid"], removed=p)
    return Reply(204)
