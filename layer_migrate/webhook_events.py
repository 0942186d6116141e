"""Webhook deliveries for consumers written for an older Webhooks version (spec §12, R49–R52).

3.0 is the only webhooks version the real service kept ("Currently, 3.0 is the only available
version"), so a v1 consumer needs every 3.0 delivery translated down: event names (R50, the table
of §12.3), the actor (R51) and the embedded objects (R52, reusing the message/conversation rules
of the rulebook). Events without a 1.0 equivalent produce no event and a reason.

The conventions shared with the emulator for the INFERRED parts (``Conversation.updated``
``changes``, ``Receipt.created`` payloads) are in ``docs/architecture.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import TYPE_CHECKING, Any

from .errors import LayerError, invalid_request
from .identity import user_id_of
from .rulebook import Context
from .versions import WEBHOOK_VERSIONS, WEBHOOKS_MEDIA_TYPE, accept_header

if TYPE_CHECKING:
    from .engine import Engine, Options, WebhookTranslation

#: R50, §12.3: 2.0-published / 3.0 event type → 1.0 event type (None: computed per payload).
EVENTS_DOWN: dict[str, str | None] = {
    "Message.created": "message.sent",
    "Message.deleted": "message.deleted",
    "Conversation.created": "conversation.created",
    "Conversation.updated": None,       # participants and/or metadata, from "changes"
    "Conversation.deleted": "conversation.deleted",
    "Receipt.created": None,            # message.read / message.delivered, from receipt.type
    "Message.updated": None,            # receipt (webhooks 3.0 payload page) or an edit (R30: dropped)
}

#: R50 upgrade direction (registration by a v1 client, R53/R54): 1.0 name → 2.0/3.0 name.
EVENTS_UP: dict[str, str] = {
    "message.sent": "Message.created",
    "message.delivered": "Receipt.created",
    "message.read": "Receipt.created",
    "message.deleted": "Message.deleted",
    "conversation.created": "Conversation.created",
    "conversation.updated.participants": "Conversation.updated",
    "conversation.updated.metadata": "Conversation.updated",
    "conversation.deleted": "Conversation.deleted",
}

#: 2.0/3.0 name → the 1.0 names it covers (for webhook registrations read back by a v1 client).
EVENTS_BACK: dict[str, tuple[str, ...]] = {}
for _v1, _v3 in EVENTS_UP.items():
    EVENTS_BACK.setdefault(_v3, ())
    EVENTS_BACK[_v3] += (_v1,)

V1_EVENTS: tuple[str, ...] = tuple(EVENTS_UP)

#: R53: key under which a v1 registration's own events ride along in ``config`` (opaque to the
#: server), so read-backs and deliveries restore them exactly (``Options.webhook_events_in_config``).
CONFIG_MARK = "layer_migrate_v1"


def unmark_config(obj: dict[str, Any]) -> list[str] | None:
    """Remove the :data:`CONFIG_MARK` from ``obj["config"]`` in place (``obj`` must be a private
    copy); returns the v1 event list it carried, or None when unmarked."""
    config = obj.get("config")
    if not isinstance(config, dict) or CONFIG_MARK not in config:
        return None
    mark = config[CONFIG_MARK]
    rest = {k: v for k, v in config.items() if k != CONFIG_MARK}
    had_config = isinstance(mark, dict) and mark.get("config", True)
    if rest or had_config:
        obj["config"] = rest
    elif "event" in obj:  # a delivery: the 1.0 payload has no config key when none was registered
        del obj["config"]
    else:
        obj["config"] = None
    events = mark.get("events") if isinstance(mark, dict) else None
    return events if isinstance(events, list) else None


def events_up(events: Any, where: str = "events") -> list[str]:
    """R50/R53: a v1 ``events`` list → the 2.0/3.0 names (deduplicated, order kept)."""
    if not isinstance(events, list):
        raise LayerError("invalid_property", f"Property '{where}' must be an array of event names",
                         data={"property": where})
    out: list[str] = []
    for name in events:
        new = EVENTS_UP.get(name) if isinstance(name, str) else None
        if new is None:
            if isinstance(name, str) and name in EVENTS_BACK:  # already a new-style name
                new = name
            else:
                raise LayerError("invalid_property", f"Unknown webhook event {name!r}; expected one of "
                                 + ", ".join(V1_EVENTS), data={"property": where})
        if new not in out:
            out.append(new)
    return out


def events_down(events: Any, original: Any = None) -> list[str]:
    """R53: 2.0/3.0 event names → 1.0 names; ``original`` (the v1 request's list) wins when it maps
    to the same set, so a registration reads back exactly as it was written."""
    if not isinstance(events, list):
        return events
    if isinstance(original, list):
        try:
            if set(events_up(original)) == set(events):
                return list(original)
        except LayerError:
            pass
    out: list[str] = []
    for name in events:
        if not isinstance(name, str):
            continue
        for v1 in EVENTS_BACK.get(name, (name,) if name in EVENTS_UP else ()):
            if v1 not in out:
                out.append(v1)
    return out


# ---- R49: transport ---------------------------------------------------------------------------
def sign(secret: str | bytes, raw_body: bytes) -> str:
    """``layer-webhook-signature``: lowercase hex HMAC-SHA1 of the raw body (§12.2)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, raw_body, hashlib.sha1).hexdigest()


def verify(secret: str | bytes, raw_body: bytes, signature: str | None) -> bool:
    """Constant-time check of an upstream delivery's signature (R49: verify before translating)."""
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, raw_body), signature.strip().lower())


def delivery_headers(event_type: str, raw_body: bytes, secret: str | bytes, *, request_id: str,
                     webhook_id: str, version: str = "1.0") -> dict[str, str]:
    """The §12.2 headers of a re-signed delivery for a consumer registered at ``version`` (R49)."""
    return {
        "content-type": accept_header(version, WEBHOOKS_MEDIA_TYPE),
        "user-agent": f"layer-webhooks/{version}",
        "layer-webhook-event-type": event_type,
        "layer-webhook-signature": sign(secret, raw_body),
        "layer-webhook-request-id": request_id,
        "layer-webhook-id": webhook_id,
    }


# ---- R50–R52: payloads ------------------------------------------------------------------------
def webhook_version(version: str) -> str:
    """Platform or webhooks version → webhooks version (1.1 → 1.0; spec §12.1)."""
    v = str(version).strip()
    if v in ("1", "1.0", "1.1"):
        return "1.0"
    if v in ("2", "2.0"):
        return "2.0"
    if v in ("3", "3.0"):
        return "3.0"
    raise invalid_request(f"unknown webhooks version {version!r}; expected one of {', '.join(WEBHOOK_VERSIONS)}",
                          data={"property": "version"})


def actor_to_v1(actor: Any, options: Options) -> dict[str, Any] | None:
    """R51 with R24's logic: ``{"user_id": U}`` or ``{"name": N}`` (bots, name-only senders)."""
    if not isinstance(actor, dict):
        return None
    if "id" not in actor and ("user_id" in actor or "name" in actor) and "display_name" not in actor:
        return {k: v for k, v in actor.items() if v is not None} or None
    uid = user_id_of(actor)
    if uid is None:
        name = actor.get("display_name")
        return {"name": name} if name is not None else None
    from .engine import bot_name

    ctx = Context("3.0", "1.0", options)
    name = bot_name(uid, actor, ctx)
    return {"name": name} if name is not None else {"user_id": uid}


def _single_key(sender: Any) -> Any:
    if isinstance(sender, dict) and set(sender) <= {"user_id", "name"}:
        return {k: v for k, v in sender.items() if v is not None}
    return sender


def _derived_id(event_id: Any, event_type: str) -> Any:
    if not isinstance(event_id, str):
        return event_id
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event_id}#{event_type}"))


def translate_webhook(engine: Engine, event_type: str, body: Any, source: str, to: str,
                      options: Options) -> WebhookTranslation:
    """See :func:`layer_migrate.engine.translate_webhook`."""
    from .engine import WebhookTranslation

    src, dst = webhook_version(source), webhook_version(to)
    if not isinstance(body, dict):
        raise invalid_request("A webhook delivery body must be a JSON object", data={"property": "body"})
    if src == dst:
        return WebhookTranslation([(event_type, body)], [], [])
    if dst != "1.0":
        return _down_to_v2(engine, event_type, body, src, dst, options)
    ctx = Context(src, "1.0", options)
    ctx.engine = engine
    ctx.webhook = True
    applied, lossy = ctx.applied, ctx.lossy

    def drop(reason: str) -> WebhookTranslation:
        lossy.append(f"wh.event_names: {reason}")
        return WebhookTranslation([], applied, lossy, reason)

    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    # 2.0 draft deliveries kept the 1.0 names; only the objects changed.
    if event_type in V1_EVENTS:
        types = [event_type]
    elif event_type in ("Receipt.created", "Message.updated"):
        receipt = body.get("receipt")
        if not isinstance(receipt, dict):
            if event_type == "Message.updated":
                applied.append("v3.message.edits")
                return drop("Message.updated (an edit) has no 1.0 equivalent (R30)")
            return drop("Receipt.created without a receipt object")
        rtype = receipt.get("type")
        if rtype not in ("read", "delivery"):
            return drop(f"receipt type {rtype!r} has no 1.0 equivalent")
        types = ["message.read" if rtype == "read" else "message.delivered"]
        if not isinstance(body.get("message"), dict):
            return drop("a receipt needs the full message for a 1.0 payload (R52): fetch it and retry")
    elif event_type == "Conversation.updated":
        changes = body.get("changes")
        if isinstance(changes, list):
            props = [c.get("property") for c in changes if isinstance(c, dict)]
            types = []
            for x in props:  # in the order of the change list, one event per kind of change
                root = x.split(".", 1)[0] if isinstance(x, str) else None
                if root in ("participants", "metadata") and f"conversation.updated.{root}" not in types:
                    types.append(f"conversation.updated.{root}")
            if not types:
                return drop(f"Conversation.updated changed {props} only: no 1.0 equivalent")
        else:
            types = [options.conversation_updated_default]
            lossy.append("wh.event_names: Conversation.updated without a change list; "
                         f"sent as {options.conversation_updated_default}")
    elif event_type in EVENTS_DOWN:
        types = [EVENTS_DOWN[event_type]]  # type: ignore[list-item]
    else:
        if event_type.startswith("MessagePart."):
            applied.append("v3.message.edits")
        return drop(f"{event_type} has no 1.0 equivalent")
    if event_type not in V1_EVENTS:
        applied.append("wh.event_names")

    # R51: the actor (published 2.0/3.0: top level; 2.0 draft: event.actor).
    actor_src = body.get("actor", event.get("actor"))
    actor = actor_to_v1(actor_src, options)
    if actor_src is not None:
        applied.append("wh.actor")

    out_body: dict[str, Any] = {}
    message = body.get("message")
    if isinstance(message, dict):
        conv = message.get("conversation")
        is_announcement = (str(message.get("id", "")).startswith("layer:///announcements/")
                           or (conv is None and "conversation" in message))
        if is_announcement and types == ["message.sent"]:
            return drop("announcements do not trigger message.sent (§6)")
        new = engine.run_object("message", message, ctx, source=src, target="1.0")
        if options.webhook_single_key_sender and isinstance(new, dict) and "sender" in new:
            new = {**new, "sender": _single_key(new["sender"])}
        out_body["message"] = new
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        out_body["conversation"] = engine.run_object("conversation", conversation, ctx, source=src, target="1.0")
    if "message" in out_body or "conversation" in out_body:
        applied.append("wh.objects")
    events: list[tuple[str, Any]] = []
    for i, t in enumerate(types):
        ev: dict[str, Any] = {k: v for k, v in event.items() if k != "actor"}
        ev["type"] = t
        if i:
            ev["id"] = _derived_id(event.get("id"), t)
        if actor is not None:
            ev["actor"] = actor
        payload: dict[str, Any] = {"event": ev, **out_body}
        if "config" in body:
            payload["config"] = body["config"]
            unmark_config(payload)
        events.append((t, payload))
    seen: list[str] = []
    for a in applied:
        if a not in seen:
            seen.append(a)
    ctx.applied = seen
    engine._report_lossy(ctx)
    return WebhookTranslation(events, seen, ctx.lossy)


def _down_to_v2(engine: Engine, event_type: str, body: dict[str, Any], src: str, dst: str,
                options: Options) -> WebhookTranslation:
    """3.0 → 2.0 (published): same event names and envelope; 3.0-only events and fields go."""
    from .engine import WebhookTranslation

    ctx = Context(src, dst, options)
    ctx.engine = engine
    ctx.webhook = True
    if event_type.startswith("MessagePart."):
        return WebhookTranslation([], ["v3.message.edits"], [f"v3.message.edits: {event_type} is 3.0-only"],
                                  f"{event_type} has no {dst} equivalent")
    out = dict(body)
    for key, kind in (("message", "message"), ("conversation", "conversation")):
        if isinstance(body.get(key), dict):
            out[key] = engine.run_object(kind, body[key], ctx, source=src, target=dst)
    return WebhookTranslation([(event_type, out)], ctx.applied, ctx.lossy)
