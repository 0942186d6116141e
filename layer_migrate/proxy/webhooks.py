"""Webhook relay: 2.0/3.0 deliveries in, 1.0 deliveries out (R49–R53, spec §12).

The upstream delivers to the proxy (register the upstream webhook with the proxy's
``--webhook-path`` URL and ``--upstream-webhook-secret``). For each delivery the relay

1. verifies ``layer-webhook-signature`` = hex HMAC-SHA1(upstream secret, raw body) — a bad or
   missing signature is answered ``403`` and nothing is forwarded (R49);
2. downgrades event name and payload with the engine (``translate_webhook``, R50–R52); events
   without a 1.0 equivalent are dropped, counted, and acknowledged ``204`` so the upstream does
   not retry them;
3. re-signs each 1.0 body with the legacy receiver's secret, sets the 1.0 ``content-type`` and
   ``user-agent``, keeps ``layer-webhook-request-id`` (retry de-duplication) and
   ``layer-webhook-id``, and POSTs it to ``--webhook-target``;
4. answers ``204`` when every 1.0 delivery got a 2xx, else ``502`` so the upstream retries
   (with the same request id; when one delivery fans out into several 1.0 events, each gets a
   stable derived request id so the receiver's de-duplication still works).

``GET <webhook-path>?verification_challenge=X`` is answered with ``X`` (§12.2).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from ..versions import WEBHOOKS_MEDIA_TYPE, version_of

#: Namespace for request ids derived when one upstream delivery becomes several 1.0 deliveries.
_FANOUT_NS = uuid.UUID("6f1c7a52-3f4e-4c55-9d7a-7a1c0b5e0a10")


def sign(secret: str, raw: bytes) -> str:
    """Lower-case hex HMAC-SHA1 of the raw body (spec §12.2)."""
    return hmac.new(secret.encode("utf-8"), raw, hashlib.sha1).hexdigest()


def verify(secret: str, raw: bytes, signature: str | None) -> bool:
    """Constant-time check of a delivery signature."""
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, raw), signature.strip().lower())


@dataclass
class Delivery:
    """One outgoing 1.0 delivery."""

    event_type: str
    body: bytes
    headers: dict[str, str]


@dataclass
class RelayResult:
    status: int
    body: bytes
    content_type: str
    outcome: str
    deliveries: list[Delivery]


class WebhookRelay:
    """The I/O-free part of the relay; the ASGI app does the POSTs."""

    def __init__(self, *, upstream_secret: str, target_secret: str, upstream_version: str,
                 options: Any, translator: Any = None) -> None:
        # ``translator``: anything with the module's ``translate_webhook`` signature — the
        # proxy passes its Migrator, so a user rule folder applies to deliveries too.
        if translator is None:
            from .. import engine as translator
        self.engine = translator
        self.upstream_secret = upstream_secret
        self.target_secret = target_secret
        self.upstream_version = upstream_version
        self.options = options

    def challenge(self, query: str) -> RelayResult | None:
        values = parse_qs(query).get("verification_challenge")
        if not values:
            return None
        return RelayResult(200, values[0].encode("utf-8"), "text/plain; charset=utf-8", "challenge", [])

    def prepare(self, headers: dict[str, str], raw: bytes) -> RelayResult:
        """Verify and downgrade one delivery; ``deliveries`` are what must be POSTed."""
        if not verify(self.upstream_secret, raw, headers.get("layer-webhook-signature")):
            return _error(403, "access_denied", 101, "Invalid webhook signature", "bad_signature")
        event_type = headers.get("layer-webhook-event-type")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "invalid_request", 10, "Webhook body is not valid JSON", "bad_body")
        if not event_type and isinstance(body, dict):
            event_type = (body.get("event") or {}).get("type")
        if not event_type:
            return _error(400, "invalid_request", 10, "Missing layer-webhook-event-type", "bad_body")
        source = version_of(headers.get("content-type"), WEBHOOKS_MEDIA_TYPE) or self.upstream_version
        if source.startswith("1."):
            # Forwarding it would hand the 1.0 receiver a delivery nobody translated.
            return _error(422, "invalid_property", 105,
                          f"The relay translates 2.0/3.0 deliveries, not version {source}",
                          "bad_version")
        lowered = event_type.lower()
        if lowered.startswith("message.") and lowered != "message.updated" \
                and not (isinstance(body, dict) and isinstance(body.get("message"), dict)):
            return _error(422, "invalid_property", 105,
                          f"A {event_type} delivery must carry its message object", "no_message")
        try:
            w = self.engine.translate_webhook(event_type, body, source=source, to="1.0",
                                              options=self.options)
        except Exception as exc:  # noqa: BLE001 - a LayerError or a rule bug: answer, never crash
            msg = getattr(exc, "message", None) or str(exc)
            return _error(422, "invalid_property", 105, f"Cannot downgrade {event_type}: {msg}",
                          "translation_error")
        events = list(w.events)
        if not events:
            return RelayResult(204, b"", "text/plain", "dropped", [])
        rid = headers.get("layer-webhook-request-id") or str(uuid.uuid4())
        out: list[Delivery] = []
        for i, (etype, ebody) in enumerate(events):
            data = orjson.dumps(ebody)
            request_id = rid if len(events) == 1 else str(uuid.uuid5(_FANOUT_NS, f"{rid}/{i}"))
            h = {
                "content-type": f"{WEBHOOKS_MEDIA_TYPE}; version=1.0",
                "user-agent": "layer-webhooks/1.0",
                "layer-webhook-event-type": etype,
                "layer-webhook-signature": sign(self.target_secret, data),
                "layer-webhook-request-id": request_id,
            }
            if headers.get("layer-webhook-id"):
                h["layer-webhook-id"] = headers["layer-webhook-id"]
            out.append(Delivery(etype, data, h))
        return RelayResult(204, b"", "text/plain", "relayed", out)


def _error(status: int, eid: str, code: int, message: str, outcome: str) -> RelayResult:
    body = orjson.dumps({"id": eid, "code": code, "message": message,
                         "url": "https://developer.layer.com/docs/webhooks"})
    return RelayResult(status, body, "application/json; charset=UTF-8", outcome, [])
