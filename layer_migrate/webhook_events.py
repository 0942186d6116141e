"""Webhook vocabulary (spec §12): event-name tables (R50), registration event lists (R53),
the v1 config mark, versions, and delivery signing (R49).

Leaf data and small pure functions, shared by the webhook rules, the engine's delivery translation
(:mod:`layer_migrate.engine.deliveries`), the proxy's relay and the codemod. Translating a
delivery needs the rulebook, so it lives in the engine, not here.

Conventions the emulator and the engine share for the INFERRED parts of spec §12.3 (the spec
could not recover them from the service):

* 3.0 ``Conversation.updated`` payloads carry ``"changes": [{"property": "participants" |
  "metadata" | <other>, ...}]`` next to ``"conversation"``; the R50 downgrade emits
  ``conversation.updated.participants`` and/or ``.metadata`` from ``changes[].property``, and
  without ``changes`` falls back to ``Options.conversation_updated_default`` (saying so in
  ``lossy``).
* 3.0 ``Receipt.created`` payloads: ``{"event", "actor": <reader>, "receipt": {"type": "read" |
  "delivery"}, "message": <full Message>}`` → 1.0 ``message.read`` / ``message.delivered``.
* 1.0 payloads: ``{"event": {"created_at", "type", "id", "actor"?}, "message" | "conversation",
  "config"?}``, sender/actor with only the non-null key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .errors import LayerError, invalid_request
from .versions import (
    WEBHOOK_VERSIONS,
    WEBHOOKS_MEDIA_TYPE,
    UnknownVersion,
    accept_header,
    check_version,
)

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


# ---- versions ---------------------------------------------------------------------------------
def webhook_version(version: str) -> str:
    """Platform or webhooks version → webhooks version (1.1 → 1.0; spec §12.1)."""
    try:
        v = check_version(version)
    except (UnknownVersion, TypeError):
        v = ""
    if v == "1.1":
        return "1.0"
    if v not in WEBHOOK_VERSIONS:
        raise invalid_request(f"unknown webhooks version {version!r}; expected one of "
                              f"{', '.join(WEBHOOK_VERSIONS)}", data={"property": "version"})
    return v
