"""Webhook deliveries for consumers written for an older Webhooks version (spec §12, R49–R52).

3.0 is the only webhooks version the real service kept ("Currently, 3.0 is the only available
version"), so a v1 consumer needs every 3.0 delivery translated down: event names (R50, the table
of §12.3), the actor (R51) and the embedded objects (R52, reusing the message/conversation rules
of the rulebook). Events without a 1.0 equivalent produce no event and a reason.

Each part runs because a rule declares it (``rule.webhook(part)``, a
:class:`~layer_migrate.facts.WebhookFact`), and ``applied`` names that rule: the ids live in
``layer_migrate/rules/``, never here. The tables (event names, config mark) and the INFERRED payload
conventions shared with the emulator (``Conversation.updated`` ``changes``, ``Receipt.created``
payloads) are in :mod:`layer_migrate.webhook_events`.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from ..errors import invalid_request
from ..facts import WebhookPart
from ..identity import user_id_of
from ..options import Options
from ..results import WebhookTranslation
from ..rulebook import Context, bot_name
from ..webhook_events import EVENTS_DOWN, V1_EVENTS, unmark_config, webhook_version

__all__ = ["DeliveryEngine", "actor_to_v1", "translate_delivery"]


class DeliveryEngine(Protocol):
    """What delivery translation needs of an :class:`~layer_migrate.engine.Engine` (a protocol,
    so the engine may call this module without the two importing each other)."""

    def webhook_rule(self, part: WebhookPart, event_type: str | None = None) -> str | None: ...

    def run_object(self, kind: str, obj: Any, ctx: Context, source: str | None = None,
                   target: str | None = None) -> Any: ...

    def report_lossy(self, ctx: Context) -> None: ...


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
    name = bot_name(uid, actor, Context("3.0", "1.0", options))
    return {"name": name} if name is not None else {"user_id": uid}


def _single_key(sender: Any) -> Any:
    if isinstance(sender, dict) and set(sender) <= {"user_id", "name"}:
        return {k: v for k, v in sender.items() if v is not None}
    return sender


def _derived_id(event_id: Any, event_type: str) -> Any:
    if not isinstance(event_id, str):
        return event_id
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event_id}#{event_type}"))


def translate_delivery(engine: DeliveryEngine, event_type: str, body: Any, source: str, to: str,
                       options: Options) -> WebhookTranslation:
    """See :meth:`layer_migrate.engine.Engine.translate_webhook`."""
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
    names_rule = engine.webhook_rule("event_names")

    def drop(reason: str) -> WebhookTranslation:
        lossy.append(f"{names_rule}: {reason}" if names_rule else reason)
        return WebhookTranslation([], applied, lossy, reason)

    event: dict[str, Any] = body["event"] if isinstance(body.get("event"), dict) else {}
    edit_rule = engine.webhook_rule("edit_events", event_type)
    drop_rule = engine.webhook_rule("drop_events", event_type)
    # 2.0 draft deliveries kept the 1.0 names; only the objects changed.
    if event_type in V1_EVENTS or names_rule is None:
        types = [event_type]
    elif drop_rule is not None:
        applied.append(drop_rule)
        return drop(f"{event_type} has no 1.0 equivalent")
    elif event_type in ("Receipt.created", "Message.updated"):
        receipt = body.get("receipt")
        if not isinstance(receipt, dict):
            if edit_rule is not None:
                applied.append(edit_rule)
                return drop(f"{event_type} (an edit) has no 1.0 equivalent (R30)")
            return drop(f"{event_type} without a receipt object")
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
            lossy.append(f"{names_rule}: Conversation.updated without a change list; "
                         f"sent as {options.conversation_updated_default}")
    else:
        mapped = EVENTS_DOWN.get(event_type)
        if mapped is None:
            return drop(f"{event_type} has no 1.0 equivalent")
        types = [mapped]
    if event_type not in V1_EVENTS and names_rule is not None:
        applied.append(names_rule)

    # R51: the actor (published 2.0/3.0: top level; 2.0 draft: event.actor).
    actor_rule = engine.webhook_rule("actor")
    actor_src = body.get("actor", event.get("actor"))
    actor = actor_to_v1(actor_src, options) if actor_rule else actor_src
    if actor_src is not None and actor_rule:
        applied.append(actor_rule)

    out_body: dict[str, Any] = {}
    objects_rule = engine.webhook_rule("objects")
    message = body.get("message")
    if isinstance(message, dict):
        conv = message.get("conversation")
        is_announcement = (str(message.get("id", "")).startswith("layer:///announcements/")
                           or (conv is None and "conversation" in message))
        if is_announcement and types == ["message.sent"]:
            return drop("announcements do not trigger message.sent (§6)")
        new = engine.run_object("message", message, ctx, source=src, target="1.0") if objects_rule else message
        if options.webhook_single_key_sender and isinstance(new, dict) and "sender" in new:
            new = {**new, "sender": _single_key(new["sender"])}
        out_body["message"] = new
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        out_body["conversation"] = (engine.run_object("conversation", conversation, ctx, source=src,
                                                      target="1.0") if objects_rule else conversation)
    if ("message" in out_body or "conversation" in out_body) and objects_rule:
        applied.append(objects_rule)
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
    ctx.applied = list(dict.fromkeys(applied))
    engine.report_lossy(ctx)
    return WebhookTranslation(events, ctx.applied, ctx.lossy)


def _down_to_v2(engine: DeliveryEngine, event_type: str, body: dict[str, Any], src: str, dst: str,
                options: Options) -> WebhookTranslation:
    """3.0 → 2.0 (published): same event names and envelope; 3.0-only events and fields go."""
    ctx = Context(src, dst, options)
    ctx.engine = engine
    ctx.webhook = True
    drop_rule = engine.webhook_rule("drop_events", event_type)
    if drop_rule is not None:
        return WebhookTranslation([], [drop_rule], [f"{drop_rule}: {event_type} is 3.0-only"],
                                  f"{event_type} has no {dst} equivalent")
    out = dict(body)
    for key, kind in (("message", "message"), ("conversation", "conversation")):
        if isinstance(body.get(key), dict):
            out[key] = engine.run_object(kind, body[key], ctx, source=src, target=dst)
    return WebhookTranslation([(event_type, out)], ctx.applied, ctx.lossy)
