"""Per-version rendering of the emulator's neutral model (spec §3-§6, §9, §10, §12).

Every shape here is written from the spec's tables, never produced by translating another
version's body: that independence is what makes differential tests meaningful (design.md).

Choices that the spec leaves open (INFERRED, documented once here):

* BasicIdentity ``url`` is ``<base>/apps/<app>/users/<user_id>/identity`` (the form of the real
  v2 identity GET, §3.2 variant 2). ``display_name``/``avatar_url`` are ``null`` for a user that
  has no Identity.
* A message sent with a v1 ``sender.name`` reads back in 2.0+ as a BasicIdentity whose ``id``,
  ``url``, ``user_id`` and ``avatar_url`` are ``null`` (§3.2).
* Message ``url``: send responses and webhooks use ``/apps/<app>/messages/<uuid>``, system GETs
  nest it under the conversation, user-perspective reads under the user (§5.3, DOC-BUG 12).
* Part ids are always present: ``…/parts/<index>`` in 1.x/2.0, ``…/parts/<uuid>`` in 3.0 (§5.4),
  announcements included. ``encoding`` appears only when the part was sent with one; a base64
  part is echoed encoded (the documented form, R32).
* ``received_at``/``is_unread`` are set in user-perspective reads and ``null`` in system reads
  and send responses of every version ("as the 1.x system perspective did", R29;
  ``system_unread_fields="strip"`` omits them there, like the engine's option); webhook
  payloads carry neither. ``position`` appears in 3.0 messages and in the user-perspective
  ``last_message`` of every version. ``updated_at`` (message and parts), part ``url``/
  ``message_url`` and ``receipts_url`` are 3.0 only (2.0 gains message ``updated_at`` from 2017-09-28: messages.py).
* 2.0 announcements print ``recipients`` as identity ids, like 3.0 (DOC-BUG 9 resolved towards
  the request shape). Announcements carry no ``recipient_status``.
* Identity GET: 1.x profile fields only; 2.0 and 3.0 add ``id``, ``url``, ``user_id`` and a
  lowercase ``identity_type`` (the real 2.0 response, OBS §3.3).
"""

from __future__ import annotations

from typing import Any

from ..versions import is_v1
from .ids import encode_component, identity_uri

PROFILE_FIELDS = ("display_name", "avatar_url", "first_name", "last_name", "phone_number",
                  "email_address", "public_key", "metadata")


class Renderer:
    """Renders neutral documents for one app at one public base URL."""

    def __init__(self, base_url: str, app_id: str, *, system_unread_fields: str = "null") -> None:
        if system_unread_fields not in ("null", "strip"):
            raise ValueError("system_unread_fields must be 'null' or 'strip'")
        self.system_unread_fields = system_unread_fields
        self.base = base_url.rstrip("/")
        self.app_id = app_id
        self.app_url = f"{self.base}/apps/{app_id}"
        #: Where the emulator serves content bytes (set once the socket is bound).
        self.local_url = "http://127.0.0.1"
        #: Lifetime of a rendered ``download_url`` (signed storage URLs expired, §8).
        self.content_ttl = 3600.0
        self.clock: Any = None

    def content(self, c: dict[str, Any], conversation: str | None, *, webhook: bool = False) -> dict[str, Any]:
        """A received rich-content reference (§8): a working ``download_url`` back to the
        emulator, the Platform ``refresh_url`` (webhooks: without the conversation segment, as
        documented) and the ``expiration`` of that download URL."""
        import time
        from datetime import datetime, timezone

        clock = self.clock or time.time
        expires = datetime.fromtimestamp(clock() + self.content_ttl, timezone.utc)
        refresh = (f"{self.app_url}/content/{c['uuid']}" if webhook or conversation is None
                   else f"{self.app_url}/conversations/{conversation}/content/{c['uuid']}")
        return {"id": f"layer:///content/{c['uuid']}", "size": c["size"],
                "download_url": f"{self.local_url}/_emulator/content/{c['uuid']}",
                "refresh_url": refresh,
                "expiration": expires.isoformat(timespec="seconds").replace("+00:00", "Z")}

    # -- identities ---------------------------------------------------------------------------

    def basic_identity(self, user_id: str, users: dict[str, dict[str, Any]]) -> dict[str, Any]:
        ident = (users.get(user_id) or {}).get("identity") or {}
        return {
            "id": identity_uri(user_id),
            "url": f"{self.app_url}/users/{encode_component(user_id)}/identity",
            "user_id": user_id,
            "display_name": ident.get("display_name"),
            "avatar_url": ident.get("avatar_url"),
        }

    def identity(self, version: str, user: dict[str, Any]) -> dict[str, Any] | None:
        ident = user.get("identity")
        if not ident:
            return None
        profile = {k: ident.get(k) for k in PROFILE_FIELDS}
        if is_v1(version):
            return profile
        uid = user["user_id"]
        out = {
            "id": identity_uri(uid),
            "url": f"{self.app_url}/users/{encode_component(uid)}/identity",
            "user_id": uid,
        }
        out.update({k: profile[k] for k in ("display_name", "avatar_url", "first_name", "last_name",
                                             "phone_number", "email_address")})
        out["identity_type"] = ident.get("identity_type") or "user"
        out["public_key"] = profile["public_key"]
        out["metadata"] = profile["metadata"]
        return out

    def user_status(self, version: str, user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["user_id"], "identity": self.identity(version, user),
                "suspended": bool(user.get("suspended"))}

    def sender(self, version: str, sender: dict[str, Any], users: dict[str, dict[str, Any]],
               *, single_key: bool = False) -> dict[str, Any]:
        """1.x ``{"user_id", "name"}`` (one null, or only the set key in 1.0 webhooks); 2.0+ BasicIdentity."""
        uid = sender.get("user_id")
        if is_v1(version):
            if single_key:
                return {"user_id": uid} if uid is not None else {"name": sender.get("name")}
            return {"user_id": uid, "name": None if uid is not None else sender.get("name")}
        if uid is not None:
            return self.basic_identity(uid, users)
        return {"id": None, "url": None, "user_id": None, "display_name": sender.get("name"), "avatar_url": None}

    def identity_ref(self, version: str, user_id: str) -> str:
        """How a version names a user in a list or a map key: user id (1.x) or identity id."""
        return user_id if is_v1(version) else identity_uri(user_id)

    # -- conversations ------------------------------------------------------------------------

    def conversation(self, version: str, conv: dict[str, Any], users: dict[str, dict[str, Any]],
                     *, user: str | None = None, unread: int | None = None,
                     last_message: dict[str, Any] | None = None) -> dict[str, Any]:
        cuuid = conv["uuid"]
        url = (f"{self.app_url}/users/{encode_component(user)}/conversations/{cuuid}" if user is not None
               else f"{self.app_url}/conversations/{cuuid}")
        if is_v1(version):
            participants: list[Any] = list(conv["participants"])
        else:
            participants = [self.basic_identity(u, users) for u in conv["participants"]]
        out: dict[str, Any] = {
            "id": f"layer:///conversations/{cuuid}",
            "url": url,
            "messages_url": f"{url}/messages",
            "created_at": conv["created_at"],
            "participants": participants,
            "distinct": bool(conv["distinct"]),
            "metadata": conv.get("metadata"),
        }
        if version == "3.0" and conv.get("significance") is not None:
            out["significance"] = conv["significance"]
        if user is not None:
            out["unread_message_count"] = unread or 0
            out["last_message"] = (self.message(version, last_message, users, user=user, last=True)
                                   if last_message else None)
        return out

    def conversation_ref(self, conv_uuid: str | None) -> dict[str, Any] | None:
        if conv_uuid is None:
            return None
        return {"id": f"layer:///conversations/{conv_uuid}", "url": f"{self.app_url}/conversations/{conv_uuid}"}

    # -- messages -----------------------------------------------------------------------------

    def part(self, version: str, kind: str, owner_uuid: str, index: int, part: dict[str, Any],
             message_url: str | None = None, *, conversation: str | None = None,
             webhook: bool = False) -> dict[str, Any]:
        pid = part["uuid"] if version == "3.0" else str(index)
        out: dict[str, Any] = {"id": f"layer:///{kind}/{owner_uuid}/parts/{pid}", "mime_type": part["mime_type"]}
        if part.get("content") is not None:
            out["content"] = self.content(part["content"], conversation, webhook=webhook)
        else:
            out["body"] = part["body"]
        if part.get("encoding") is not None:
            out["encoding"] = part["encoding"]
        if version == "3.0":
            out["updated_at"] = part.get("updated_at")
            if message_url is not None:
                out["url"] = f"{message_url}/parts/{part['uuid']}"
                out["message_url"] = message_url
        return out

    def recipient_status(self, version: str, status: dict[str, str]) -> dict[str, str]:
        if is_v1(version):
            return dict(status)
        return {identity_uri(u): s for u, s in status.items()}

    def message(self, version: str, msg: dict[str, Any], users: dict[str, dict[str, Any]], *,
                user: str | None = None, url_kind: str = "get", last: bool = False,
                single_key_sender: bool = False, webhook: bool = False) -> dict[str, Any]:
        """``url_kind``: ``send`` (and webhooks) → ``/apps/<app>/messages/<uuid>``; ``get`` → nested
        under the conversation; user-perspective reads (``user`` set) → under the user."""
        muuid, cuuid = msg["uuid"], msg["conversation"]
        nested = f"{self.app_url}/conversations/{cuuid}/messages/{muuid}"
        if user is not None:
            url = f"{self.app_url}/users/{encode_component(user)}/messages/{muuid}"
        elif url_kind == "send":
            url = f"{self.app_url}/messages/{muuid}"
        else:
            url = nested
        out: dict[str, Any] = {
            "id": f"layer:///messages/{muuid}",
            "url": url,
            "conversation": self.conversation_ref(cuuid),
            "parts": [self.part(version, "messages", muuid, i, p, nested, conversation=cuuid, webhook=webhook)
                      for i, p in enumerate(msg["parts"])],
            "sent_at": msg["sent_at"],
            "sender": self.sender(version, msg["sender"], users, single_key=single_key_sender),
            "recipient_status": self.recipient_status(version, msg["recipient_status"]),
        }
        if not webhook and (user is not None or self.system_unread_fields == "null"):
            is_unread = received = None
            if user is not None:
                # unread = the user has a status short of "read" (joined-later users have none),
                # the same rule the unread counts use.
                is_unread = msg["recipient_status"].get(user) in ("sent", "delivered") and msg["sender"].get("user_id") != user
                received = (msg.get("received_at") or {}).get(user, msg["sent_at"])
            out["is_unread"] = is_unread
            out["received_at"] = received
        if version == "3.0" or last:
            out["position"] = msg.get("seq")  # None while a delayed message waits
        if version == "3.0":
            out["updated_at"] = msg.get("updated_at") or msg["sent_at"]
            out["receipts_url"] = f"{nested}/receipts"
        return out

    def announcement(self, version: str, ann: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
        auuid = ann["uuid"]
        return {
            "id": f"layer:///announcements/{auuid}",
            "url": f"{self.app_url}/announcements/{auuid}",
            "sent_at": ann["sent_at"],
            "recipients": [self.identity_ref(version, u) for u in ann["recipients"]],
            "sender": self.sender(version, ann["sender"], users),
            "parts": [self.part(version, "announcements", auuid, i, p) for i, p in enumerate(ann["parts"])],
        }

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, wh: dict[str, Any]) -> dict[str, Any]:
        out = {
            "id": f"layer:///apps/{self.app_id}/webhooks/{wh['uuid']}",
            "url": f"{self.app_url}/webhooks/{wh['uuid']}",
            "version": wh["version"],
            "target_url": wh["target_url"],
            "events": list(wh["events"]),
            "status": wh["status"],
            "created_at": wh["created_at"],
            "config": wh.get("config"),
        }
        if wh["status"] == "inactive":
            out["status_reason"] = wh.get("status_reason")
        return out
