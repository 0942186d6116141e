"""Webhooks (spec §12): the registration REST API, event payloads per webhook version, and real
signed delivery with verification, retries and deactivation.

Payload conventions are shared with the engine (docs/architecture.md, "Webhook conventions"):

* 1.0: ``{"event": {"created_at", "type", "id", "actor"?}, "message"|"conversation": …,
  "config"?}``; message ``sender`` and ``event.actor`` carry only their non-null key.
* 2.0 (the published 2017 form) and 3.0: ``Type.verb`` event names, a top-level ``actor``
  (BasicIdentity, omitted when the Platform API itself acted), objects in the webhook's version
  (2.0 keeps index part ids). ``Conversation.updated`` carries ``"changes": [{"property":
  "participants", "added": [...], "removed": [...]}, {"property": "metadata", "before", "after"}]``;
  ``Receipt.created`` is ``{"event", "actor": <reader>, "receipt": {"type"}, "message"}``.

INFERRED choices:

* 2.0 (from 2017-09-28, message updating) emits ``Message.updated`` for every part change.
* 3.0 also emits ``MessagePart.created|updated|deleted`` (``{"event", "message_part",
  "message"}``) and, with 2.0, ``Identity.created|updated|deleted`` (``{"event", "identity"}``).
  Registration accepts every name of §12.1 for its version; channels never fire here.
* Only ``active`` webhooks receive events. Registration and ``activate`` run the verification
  challenge at once (``GET target?verification_challenge=…`` must echo the value, else
  ``inactive``).
* Pending deliveries and verifications are resumed when an emulator restarts on the same
  ``--db`` file (attempts already made count towards ``max_attempts``).
* First attempts go out one at a time per webhook, in event order (a consumer sees
  ``conversation.created`` before the ``message.sent`` that follows it); retries run on their own
  so one failing delivery does not hold back the others.
* Deliveries are retried on non-2xx or transport errors with exponential backoff
  (``retry_base`` × 2^n, capped at ``retry_cap``) up to ``max_attempts``; then the delivery is
  ``failed`` and the webhook ``inactive`` with a ``status_reason``. Tests set short delays.
* Target URLs must be ``https://``, except ``http://`` on loopback hosts (architecture.md).
* The webhook ``secret`` is never rendered back.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import orjson

from ..errors import LayerError, invalid_property, not_found
from ..versions import WEBHOOKS_MEDIA_TYPE
from .http import Ctx, Reply
from .ids import new_uuid, now, uuid_from

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger("layer_migrate.emulator.webhooks")

V1_EVENTS = ("message.sent", "message.delivered", "message.read", "message.deleted", "conversation.created",
             "conversation.updated.participants", "conversation.updated.metadata", "conversation.deleted")
V2_EVENTS = ("Message.created", "Message.updated", "Message.deleted", "Conversation.created",
             "Conversation.updated", "Conversation.deleted", "Participation.created", "Receipt.created",
             "Channel.created", "Channel.updated", "Channel.deleted", "Membership.created", "Membership.deleted",
             "Identity.created", "Identity.updated", "Identity.deleted")
V3_EVENTS = V2_EVENTS + ("MessagePart.created", "MessagePart.updated", "MessagePart.deleted")
EVENTS = {"1.0": V1_EVENTS, "2.0": V2_EVENTS, "3.0": V3_EVENTS}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


# -- REST ------------------------------------------------------------------------------------

def _validate(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    version = body.get("version")
    if version is None:
        raise LayerError("missing_property", "The version property cannot be omitted.", data={"property": "version"})
    if not isinstance(version, str) or version not in EVENTS:
        raise invalid_property("version", "version must be one of 1.0, 2.0, 3.0")
    if version != ctx.version:
        raise invalid_property("version", f"version {version!r} does not match the Accept header version {ctx.version}")
    target = body.get("target_url")
    if target is None:
        raise LayerError("missing_property", "The target_url property cannot be omitted.", data={"property": "target_url"})
    if not isinstance(target, str):
        raise invalid_property("target_url", "target_url must be a URL string")
    try:
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises on a non-numeric or out-of-range port
    except ValueError:
        raise invalid_property("target_url", "target_url is not a valid URL") from None
    if any(ch.isspace() or ord(ch) < 32 for ch in target):
        raise invalid_property("target_url", "target_url is not a valid URL")
    if parts.scheme == "https" and host:
        pass
    elif parts.scheme == "http" and host in LOOPBACK:
        pass
    else:
        raise invalid_property("target_url", "target_url must be an https:// URL (http:// only on loopback)")
    events = body.get("events")
    if events is None:
        raise LayerError("missing_property", "The events property cannot be omitted.", data={"property": "events"})
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise invalid_property("events", "events must be a non-empty array of event names")
    unknown = [e for e in events if e not in EVENTS[version]]
    if unknown:
        raise invalid_property("events", f"Unknown event(s) for webhooks {version}: {', '.join(unknown)}")
    secret = body.get("secret")
    if secret is None:
        raise LayerError("missing_property", "The secret property cannot be omitted.", data={"property": "secret"})
    if not isinstance(secret, str) or not secret:
        raise invalid_property("secret", "secret must be a non-empty string")
    config = body.get("config")
    if config is not None and not isinstance(config, dict):
        raise invalid_property("config", "config must be an object")
    extra = set(body) - {"version", "target_url", "events", "secret", "config"}
    if extra:
        prop = sorted(extra)[0]
        raise invalid_property(prop, f"Unknown webhook property '{prop}'")
    return {"uuid": new_uuid(), "version": version, "target_url": target, "events": list(dict.fromkeys(events)),
            "secret": secret, "config": config, "status": "unverified", "status_reason": None,
            "created_at": now(), "failures": 0}


def create(ctx: Ctx) -> Reply:
    wh = _validate(ctx, ctx.json_object())
    ctx.store.put_webhook(wh)
    ctx.settings.verify_webhook(wh["uuid"])
    return Reply(201, ctx.render.webhook(wh))


def list_(ctx: Ctx) -> Reply:
    return Reply(200, [ctx.render.webhook(w) for w in ctx.store.webhooks()])


def _webhook(ctx: Ctx) -> dict[str, Any]:
    wh = ctx.store.webhook(uuid_from(ctx.params["webhook"].rsplit("/", 1)[-1], "webhooks") or "")
    if wh is None:
        raise not_found("A Webhook with the specified identifier could not be found.")
    return wh


def get(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.webhook(_webhook(ctx)))


def delete(ctx: Ctx) -> Reply:
    ctx.store.delete_webhook(_webhook(ctx)["uuid"])
    return Reply(204)


def activate(ctx: Ctx) -> Reply:
    wh = _webhook(ctx)
    wh.update(status="unverified", status_reason=None, failures=0)
    ctx.store.put_webhook(wh)
    ctx.settings.verify_webhook(wh["uuid"])
    return Reply(200, ctx.render.webhook(wh))


def deactivate(ctx: Ctx) -> Reply:
    wh = _webhook(ctx)
    wh.update(status="inactive", status_reason="Deactivated through the REST API")
    ctx.store.put_webhook(wh)
    return Reply(200, ctx.render.webhook(wh))


# -- payloads --------------------------------------------------------------------------------

def _event(kind: str, stamp: str) -> dict[str, Any]:
    return {"created_at": stamp, "type": kind, "id": new_uuid()}


def payloads(app: Settings, event: dict[str, Any], version: str) -> list[tuple[str, dict[str, Any]]]:
    """(event type, body) pairs for one neutral event at one webhook version (without config)."""
    r, store, stamp = app.renderer, app.store, now()
    kind = event["kind"]
    v1 = version == "1.0"

    def conv_obj() -> dict[str, Any]:
        conv = store.conversation(event["conversation"])
        return r.conversation(version, conv, store.users_by_id(list(conv["participants"])))

    def msg_obj(msg: dict[str, Any]) -> dict[str, Any]:
        users = store.users_by_id([msg["sender"]["user_id"]] if msg["sender"].get("user_id") else [])
        return r.message(version, msg, users, url_kind="send", single_key_sender=v1, webhook=True)

    def actor(sender: dict[str, Any]) -> dict[str, Any]:
        users = store.users_by_id([sender["user_id"]] if sender.get("user_id") else [])
        return r.sender(version, sender, users, single_key=v1)

    out: list[tuple[str, dict[str, Any]]] = []
    if kind in ("conversation.created", "conversation.deleted"):
        name = kind if v1 else "Conversation." + kind.split(".")[1]
        out.append((name, {"event": _event(name, stamp), "conversation": conv_obj()}))
    elif kind == "conversation.updated":
        if v1:
            for change in event["changes"]:
                name = f"conversation.updated.{change['property']}"
                out.append((name, {"event": _event(name, stamp), "conversation": conv_obj()}))
        else:
            changes = []
            for c in event["changes"]:
                if c["property"] == "participants":
                    users = store.users_by_id(c["added"] + c["removed"])
                    changes.append({"property": "participants",
                                    "added": [r.basic_identity(u, users) for u in c["added"]],
                                    "removed": [r.basic_identity(u, users) for u in c["removed"]]})
                else:
                    changes.append(dict(c))
            out.append(("Conversation.updated", {"event": _event("Conversation.updated", stamp),
                                                 "conversation": conv_obj(), "changes": changes}))
    elif kind in ("message.sent", "message.deleted"):
        msg = store.message(event["message"])
        name = kind if v1 else ("Message.created" if kind == "message.sent" else "Message.deleted")
        ev = _event(name, stamp)
        body: dict[str, Any] = {"event": ev}
        if kind == "message.sent":
            if v1:
                ev["actor"] = actor(msg["sender"])
            else:
                body["actor"] = actor(msg["sender"])
        body["message"] = msg_obj(msg)
        out.append((name, body))
    elif kind == "receipt":
        msg = store.message(event["message"])
        reader = {"user_id": event["user"]}
        if v1:
            name = "message.read" if event["receipt"] == "read" else "message.delivered"
            ev = _event(name, stamp)
            ev["actor"] = actor(reader)
            out.append((name, {"event": ev, "message": msg_obj(msg)}))
        else:
            out.append(("Receipt.created", {"event": _event("Receipt.created", stamp), "actor": actor(reader),
                                            "receipt": {"type": event["receipt"]}, "message": msg_obj(msg)}))
    elif kind.startswith("part.") and version == "3.0":
        msg = store.message(event["message"])
        name = "MessagePart." + kind.split(".")[1]
        found = [p for p in msg["parts"] if p["uuid"] == event["part"]] or [event.get("removed")]
        body = {"event": _event(name, stamp)}
        if found[0] is not None:
            p = found[0]
            index = msg["parts"].index(p) if p in msg["parts"] else 0
            nested = f"{r.app_url}/conversations/{msg['conversation']}/messages/{msg['uuid']}"
            body["message_part"] = r.part(version, "messages", msg["uuid"], index, p, nested)
        body["message"] = msg_obj(msg)
        out.append((name, body))
    elif kind.startswith("part.") and version == "2.0" and app.timeline.since("message_updating_2_0", "2.0"):
        # 2.0 gained message updating on 2017-09-28; its webhooks say Message.updated (no part events)
        msg = store.message(event["message"])
        out.append(("Message.updated", {"event": _event("Message.updated", stamp), "message": msg_obj(msg)}))
    elif kind.startswith("identity.") and not v1:
        user = store.user(event["user"])
        name = "Identity." + kind.split(".")[1]
        ident = r.identity(version, user) if user and user.get("identity") else {
            "id": None, "user_id": event["user"]}
        out.append((name, {"event": _event(name, stamp), "identity": ident}))
    return out


def sign(secret: str, raw: bytes) -> str:
    """``layer-webhook-signature``: lowercase hex HMAC-SHA1 of the raw body (§12.2)."""
    return hmac.new(secret.encode("utf-8"), raw, hashlib.sha1).hexdigest()


# -- delivery --------------------------------------------------------------------------------

class Dispatcher:
    """Turns committed events into signed deliveries and sends them from the event loop."""

    def __init__(self, app: Settings, *, retry_base: float = 1.0, retry_cap: float = 300.0,
                 max_attempts: int = 12, timeout: float = 5.0) -> None:
        self.settings = app
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._client: Any = None
        #: (request id, webhook uuid) recorded in the current transaction, sent after commit.
        self._pending: list[tuple[str, str]] = []
        self._queues: dict[str, asyncio.Queue[str]] = {}
        self._verify: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # called inside the request transaction
    def record(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        hooks = [w for w in self.settings.store.webhooks() if w["status"] == "active"]
        if not hooks:
            return
        for event in events:
            cache: dict[str, list[tuple[str, dict[str, Any]]]] = {}
            for wh in hooks:
                if wh["version"] not in cache:
                    cache[wh["version"]] = payloads(self.settings, event, wh["version"])
                for name, body in cache[wh["version"]]:
                    if name not in wh["events"]:
                        continue
                    if wh.get("config") is not None:
                        body = dict(body, config=wh["config"])
                    raw = orjson.dumps(body)
                    request_id = new_uuid()
                    headers = {
                        "content-type": f"{WEBHOOKS_MEDIA_TYPE}; version={wh['version']}",
                        "user-agent": f"layer-webhooks/{wh['version']}",
                        "layer-webhook-event-type": name,
                        "layer-webhook-signature": sign(wh["secret"], raw),
                        "layer-webhook-request-id": request_id,
                        "layer-webhook-id": wh["uuid"],
                    }
                    self.settings.store.put_delivery({
                        "id": request_id, "webhook": wh["uuid"], "webhook_version": wh["version"],
                        "event_type": name, "target_url": wh["target_url"], "headers": headers,
                        "body": raw.decode("utf-8"), "status": "pending", "attempts": [], "created_at": now()})
                    self._pending.append((request_id, wh["uuid"]))

    def verify_later(self, wh_uuid: str) -> None:
        self._verify.append(wh_uuid)

    # called after commit, on the event loop
    def flush(self) -> None:
        pending, self._pending = self._pending, []
        verify, self._verify = self._verify, []
        for wh in verify:
            self._spawn(self._verify_one(wh))
        for rid, wh_uuid in pending:
            self._queue_for(wh_uuid).put_nowait(rid)

    def resume(self) -> None:
        """At startup (``--db`` restart): finish pending deliveries and verifications."""
        for wh in self.settings.store.webhooks():
            if wh["status"] == "unverified":
                self._verify.append(wh["uuid"])
        for d in self.settings.store.webhook_deliveries():
            if d["status"] == "pending":
                if d["attempts"]:
                    self._spawn(self._retry(d["id"]))
                else:
                    self._pending.append((d["id"], d["webhook"]))
        self.flush()

    def discard(self) -> None:
        self._pending.clear()
        self._verify.clear()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._queues.clear()

    async def _verify_one(self, wh_uuid: str) -> None:
        wh = self.settings.store.webhook(wh_uuid)
        if wh is None or wh["status"] != "unverified":
            return
        challenge = new_uuid()
        sep = "&" if urlsplit(wh["target_url"]).query else "?"
        url = wh["target_url"] + sep + urlencode({"verification_challenge": challenge})
        reason = None
        try:
            resp = await self._http().get(url, headers={"user-agent": f"layer-webhooks/{wh['version']}"})
            if not 200 <= resp.status_code < 300:
                reason = f"Verification failed: target answered HTTP {resp.status_code}"
            elif resp.text.strip() != challenge:
                reason = "Verification failed: the response body did not echo verification_challenge"
        except Exception as exc:  # noqa: BLE001 - any transport failure deactivates the webhook
            reason = f"Verification failed: {type(exc).__name__}: {exc}"
        with self.settings.store.tx():
            wh = self.settings.store.webhook(wh_uuid)
            if wh is None or wh["status"] != "unverified":
                return
            wh.update(status="inactive" if reason else "active", status_reason=reason)
            self.settings.store.put_webhook(wh)

    def _queue_for(self, wh_uuid: str) -> asyncio.Queue[str]:
        queue = self._queues.get(wh_uuid)
        if queue is None:
            queue = asyncio.Queue()
            self._queues[wh_uuid] = queue
            self._spawn(self._worker(queue))
        return queue

    async def _worker(self, queue: asyncio.Queue[str]) -> None:
        """First attempts for one webhook, in event order; a failed one retries on its own."""
        while True:
            request_id = await queue.get()
            if await self._attempt(request_id) == "pending":
                self._spawn(self._retry(request_id))

    async def _retry(self, request_id: str) -> None:
        while True:
            d = self.settings.store.delivery(request_id)
            if d is None or d["status"] != "pending":
                return
            tries = len(d["attempts"])
            await asyncio.sleep(min(self.retry_cap, self.retry_base * (2 ** max(0, tries - 1))))
            if await self._attempt(request_id) != "pending":
                return

    async def _attempt(self, request_id: str) -> str:
        """One POST of a delivery; returns its new status (delivered, pending or failed)."""
        store = self.settings.store
        d = store.delivery(request_id)
        if d is None or d["status"] != "pending":
            return "gone"
        outcome: dict[str, Any] = {"at": now()}
        ok = False
        try:
            resp = await self._http().post(d["target_url"], content=d["body"].encode("utf-8"), headers=d["headers"])
            outcome["status"] = resp.status_code
            ok = 200 <= resp.status_code < 300
        except Exception as exc:  # noqa: BLE001 - transport errors are retried
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        with store.tx():
            d = store.delivery(request_id) or d
            d["attempts"].append(outcome)
            d["status"] = "delivered" if ok else ("pending" if len(d["attempts"]) < self.max_attempts else "failed")
            store.put_delivery(d)
            if d["status"] == "failed":
                wh = store.webhook(d["webhook"])
                if wh is not None:
                    wh.update(status="inactive",
                              status_reason=f"Delivery failed {self.max_attempts} times (last: "
                                            f"{outcome.get('status', outcome.get('error'))})")
                    store.put_webhook(wh)
        return d["status"]


__all__ = ["Dispatcher", "EVENTS", "payloads", "sign"]
