"""Announcements (§6), ad-hoc notifications (§7.3), app settings (§10), data export (§10) and
rich content (§8).

INFERRED choices:

* Announcement recipients and ad-hoc notification recipients are created as users implicitly;
  ``"everyone"`` (discontinued 2015-11-30) → ``422 invalid_property`` ``recipients`` (R34).
  Emulating an earlier date, ``"everyone"`` (and, before 2015-06-17, omitted recipients) means
  every user the emulator knows.
* ``POST /notifications`` answers ``202`` with an empty body; the request is stored
  (``emu.store.notifications()``) as it would have been pushed.
* Exports complete immediately (status ``completed``); the archive itself is not produced
  (``download_url`` null). Status answers ``202`` (sic, §10 DOC-BUG 15).
* Rich content: ``upload_url``/``download_url`` point back at the emulator
  (``/_emulator/content/<uuid>``, PUT the bytes, GET them back) instead of Google Cloud Storage.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import LayerError, invalid_property, missing_property, not_found
from . import patch as lp
from .common import ensure_user, live_conversation, users_map
from .http import Ctx, Reply
from .ids import new_uuid, now, uuid_from
from .messages import sender_of
from .settings import EmulatedFailure
from .validate import assign_part_ids, notification, parts, reject_unknown_keys, user_list

ANNOUNCEMENT_KEYS_V1 = {"recipients", "sender", "parts", "notification"}
ANNOUNCEMENT_KEYS_V2 = {"recipients", "sender_id", "parts", "notification"}


def _recipients(ctx: Ctx, body: dict[str, Any], *, announcement: bool = False) -> list[str]:
    value = body.get("recipients")
    def everyone() -> list[str]:
        return [u["user_id"] for u in ctx.store.users()]
    if value is None:
        if announcement and not ctx.since("everyone_explicit"):
            return everyone()  # before 2015-06-17 omitted recipients meant everyone
        raise missing_property("recipients")
    if value == "everyone":
        if announcement and ctx.v1 and not ctx.since("everyone_refused"):
            return everyone()  # explicit "everyone": 2015-06-17 … 2015-11-30
        raise invalid_property("recipients", "Property 'recipients' must be an array of user ids; "
                                             "\"everyone\" is no longer supported")
    recips = user_list(value, ctx.version, "recipients", lenient=ctx.lenient)
    for uid in recips:
        ensure_user(ctx, uid)
    return recips


def announcement(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    reject_unknown_keys(ctx, body, ANNOUNCEMENT_KEYS_V1 if ctx.v1 else ANNOUNCEMENT_KEYS_V2, "announcement")
    recips = _recipients(ctx, body, announcement=True)
    sender = sender_of(ctx, body, announcement=True)
    neutral_parts = parts(body.get("parts"), ctx.version, allow_ids=ctx.version == "3.0", since=ctx.since)
    assign_part_ids(neutral_parts)
    note = notification(body.get("notification"), ctx.version, lenient=ctx.lenient)
    stamp = now()
    for p in neutral_parts:
        p["updated_at"] = stamp
    if "announcement_enqueue" in ctx.settings.faults:
        if ctx.since("announcement_503"):
            raise LayerError("service_unavailable", "The announcement could not be enqueued; try again later.",
                             status=503)
        raise EmulatedFailure("announcement queue unavailable (fault switch)")
    ann = {"uuid": new_uuid(), "sent_at": stamp, "sender": sender, "recipients": recips,
           "parts": neutral_parts, "notification": note}
    ctx.store.put_announcement(ann)
    if note is not None:
        ctx.store.add_notification({"source": "announcement", "announcement": f"layer:///announcements/{ann['uuid']}",
                                    "created_at": stamp, "recipients": recips, "notification": note["root"],
                                    "overrides": note["overrides"], "version": ctx.version})
    users = users_map(ctx, [sender.get("user_id")])
    return Reply(202, ctx.render.announcement(ctx.version, ann, users))


def notify(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    unknown = set(body) - {"recipients", "notification"}
    if unknown:
        prop = sorted(unknown)[0]
        raise invalid_property(prop, f"Unknown notification property '{prop}'")
    recips = _recipients(ctx, body)
    if body.get("notification") is None:
        raise missing_property("notification")
    note = notification(body["notification"], ctx.version, lenient=ctx.lenient)
    assert note is not None
    ctx.store.add_notification({"source": "notification", "created_at": now(), "recipients": recips,
                                "notification": note["root"], "overrides": note["overrides"],
                                "version": ctx.version})
    return Reply(202)


def app_patch(ctx: Ctx) -> Reply:
    ops = lp.operations(ctx)
    ttl = ctx.store.get_kv("session_ttl_in_seconds")
    for op in ops:
        if op["property"] != "session_ttl_in_seconds" or op["operation"] != "set":
            raise invalid_property(op["property"], "Only 'set' of 'session_ttl_in_seconds' is supported")
        value = op.get("value")
        if isinstance(value, bool) or not isinstance(value, int) or not 30 <= value <= 31536000:
            raise invalid_property("session_ttl_in_seconds", "session_ttl_in_seconds must be an integer from 30 to 31536000")
        ttl = value
    ctx.store.put_kv("session_ttl_in_seconds", ttl)
    return Reply(202)


# -- exports ---------------------------------------------------------------------------------

def _render_export(ctx: Ctx, exp: dict[str, Any]) -> dict[str, Any]:
    return {"id": exp["uuid"], "url": f"{ctx.render.app_url}/exports/{exp['uuid']}",
            "type": exp["type"], "status": exp["status"], "created_at": exp["created_at"],
            "completed_at": exp["completed_at"], "download_url": None, "download_url_expires_at": None,
            "encrypted_aes_key": None, "aes_iv": None,
            "public_key": (ctx.store.get_kv("export_security") or {}).get("public_key")}


def export_create(ctx: Ctx) -> Reply:
    if not (ctx.store.get_kv("export_security") or {}).get("public_key"):
        raise LayerError("invalid_operation", "Register an export public key (PUT /export_security) first.")
    stamp = now()
    exp = {"uuid": new_uuid(), "type": "historical", "status": "completed", "created_at": stamp,
           "completed_at": stamp}
    ctx.store.put_export(exp)
    return Reply(202, _render_export(ctx, exp))


def export_list(ctx: Ctx) -> Reply:
    return Reply(200, [_render_export(ctx, e) for e in ctx.store.exports()])


def _export(ctx: Ctx) -> dict[str, Any]:
    exp = ctx.store.export(uuid_from(ctx.params["export"], "exports") or "")
    if exp is None:
        raise not_found("An Export with the specified identifier could not be found.")
    return exp


def export_status(ctx: Ctx) -> Reply:
    return Reply(202, _render_export(ctx, _export(ctx)))


def export_delete(ctx: Ctx) -> Reply:
    ctx.store.delete_export(_export(ctx)["uuid"])
    return Reply(204)


def export_security_put(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    key = body.get("public_key")
    if key is None:
        raise missing_property("public_key")
    if not isinstance(key, str) or "PUBLIC KEY" not in key:
        raise invalid_property("public_key", "public_key must be a PEM encoded RSA public key")
    ctx.store.put_kv("export_security", {"public_key": key})
    return Reply(200, {"public_key": key})


def export_security_get(ctx: Ctx) -> Reply:
    return Reply(200, ctx.store.get_kv("export_security") or {"public_key": None})


def export_schedule_put(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    interval = body.get("interval")
    if interval is None:
        raise missing_property("interval")
    if interval not in ("daily", "disabled"):
        raise invalid_property("interval", "interval must be 'daily' or 'disabled'")
    events = body.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise invalid_property("events", "events must be an array of webhook event names")
    sched = {"interval": interval, "events": events, "last_export_at": None, "last_export_id": None,
             "next_export_at": None}
    ctx.store.put_kv("export_schedule", sched)
    return Reply(200, sched)


def export_schedule_get(ctx: Ctx) -> Reply:
    return Reply(200, ctx.store.get_kv("export_schedule") or {"interval": "disabled", "events": [],
                                                              "last_export_at": None, "last_export_id": None,
                                                              "next_export_at": None})


# -- rich content ----------------------------------------------------------------------------

def _render_content(ctx: Ctx, c: dict[str, Any], *, bare_id: bool = False) -> dict[str, Any]:
    base = ctx.settings.local_url
    if not c.get("uploaded"):
        return {"id": c["uuid"] if bare_id else f"layer:///content/{c['uuid']}", "size": c["size"],
                "upload_url": f"{base}/_emulator/content/{c['uuid']}?upload_token={c.get('upload_token', '')}",
                "download_url": None, "refresh_url": None, "expiration": None}
    out = ctx.render.content(c, c["conversation"])
    out["upload_url"] = None
    if bare_id:
        out["id"] = c["uuid"]  # the refresh response shows a bare UUID (§8, DOC-BUG kept)
    return out


def content_create(ctx: Ctx) -> Reply:
    conv = live_conversation(ctx)
    ctype = ctx.headers.get("upload-content-type")
    length = ctx.headers.get("upload-content-length")
    if not ctype:
        raise missing_property("Upload-Content-Type", "Request headers")
    if length is None:
        raise missing_property("Upload-Content-Length", "Request headers")
    try:
        size = int(length)
    except ValueError:
        raise invalid_property("Upload-Content-Length", "Upload-Content-Length must be an integer") from None
    if size <= 0:
        raise invalid_property("Upload-Content-Length", "Upload-Content-Length must be positive")
    c = {"uuid": new_uuid(), "conversation": conv["uuid"], "size": size, "mime_type": ctype,
         "origin": ctx.headers.get("upload-origin"), "uploaded": False, "created_at": now(),
         "upload_token": secrets.token_urlsafe(16)}
    ctx.store.put_content(c)
    return Reply(201, _render_content(ctx, c),
                 {"location": f"/apps/{ctx.render.app_id}/conversations/{conv['uuid']}/content/{c['uuid']}"})


def content_get(ctx: Ctx) -> Reply:
    live_conversation(ctx)
    found = ctx.store.content(uuid_from(ctx.params["content"], "content") or "")
    if found is None:
        raise not_found("A Content with the specified identifier could not be found.")
    return Reply(200, _render_content(ctx, found[0], bare_id=True))
