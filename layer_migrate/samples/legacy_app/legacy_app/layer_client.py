"""Thin client for the Layer Platform API (written against version 1.1).

Configured from the environment so the same code runs against api.layer.com, a local emulator
or the migration proxy:

* ``LAYER_API_URL`` — e.g. ``https://api.layer.com``
* ``LAYER_APP_ID``  — the app UUID
* ``LAYER_TOKEN``   — the Platform API bearer token
"""

import json
import os
from urllib.parse import quote

import requests

LAYER_ACCEPT = "application/vnd.layer+json; version=1.1"
PATCH_CONTENT_TYPE = "application/vnd.layer-patch+json"
# The Webhooks REST API is versioned separately from the Platform API.
WEBHOOKS_ACCEPT = "application/vnd.layer.webhooks+json; version=1.0"


class LayerError(Exception):
    """A non-2xx answer, with the Layer error object when there is one."""

    def __init__(self, status, body):
        super().__init__(f"Layer API error {status}: {body}")
        self.status = status
        self.body = body


class Agent:
    """Someone the desk sends as: a support agent (a user) or the support bot (a v1 display name)."""

    def __init__(self, user_id=None, bot_name=None):
        self.user_id = user_id
        self.bot_name = bot_name

    def as_sender(self):
        if self.user_id:
            return {"user_id": self.user_id}
        return {"name": self.bot_name}


class Conversation:
    """A conversation as the desk's code sees it: ``participants`` are user ids."""

    def __init__(self, id, participants, metadata=None):
        self.id = id
        self.participants = participants
        self.metadata = metadata or {}

    @classmethod
    def from_dict(cls, data):
        return cls(data["id"], data.get("participants"), data.get("metadata"))


class Message:
    """A sent message: ``sender`` is ``{"user_id": ..., "name": ...}``, ``recipient_status`` is
    keyed by user id."""

    def __init__(self, id, sender, recipient_status):
        self.id = id
        self.sender = sender
        self.recipient_status = recipient_status

    @classmethod
    def from_dict(cls, data):
        return cls(data["id"], dict(data.get("sender")), data.get("recipient_status"))


class LayerClient:
    def __init__(self, api_url=None, app_id=None, token=None, timeout=10):
        api_url = (api_url or os.environ["LAYER_API_URL"]).rstrip("/")
        app_id = app_id or os.environ["LAYER_APP_ID"]
        token = token or os.environ["LAYER_TOKEN"]
        self.base_url = f"{api_url}/apps/{app_id}"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({
            "Accept": LAYER_ACCEPT,
            "Authorization": "Bearer " + token,
        })

    # -- plumbing ------------------------------------------------------------------------
    def _url(self, path):
        return self.base_url + path

    def _check(self, resp):
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
            raise LayerError(resp.status_code, body)
        if resp.content:
            return resp.json()
        return None

    # -- conversations -------------------------------------------------------------------
    def create_conversation(self, participants, metadata=None, distinct=False):
        body = {"participants": list(participants), "distinct": distinct}
        if metadata:
            body["metadata"] = metadata
        resp = self.session.post(self._url("/conversations"), json=body, timeout=self.timeout)
        return self._check(resp)

    def get_conversation(self, conversation_id):
        resp = self.session.get(self._url(f"/conversations/{conversation_id}"), timeout=self.timeout)
        return self._check(resp)

    def participants_of(self, conversation_id):
        conversation = self.get_conversation(conversation_id)
        return sorted(conversation["participants"])

    def is_participant(self, conversation_id, user_id):
        return user_id in self.get_conversation(conversation_id)["participants"]

    def participant_ops(self, add=(), remove=()):
        ops = []
        for user_id in add:
            ops.append({"operation": "add", "property": "participants", "value": user_id})
        for user_id in remove:
            ops.append({"operation": "remove", "property": "participants", "value": user_id})
        return ops

    def patch_participants(self, conversation_id, add=(), remove=()):
        ops = self.participant_ops(add=add, remove=remove)
        resp = self.session.patch(
            self._url(f"/conversations/{conversation_id}"),
            data=json.dumps(ops),
            headers={"Content-Type": PATCH_CONTENT_TYPE},
            timeout=self.timeout,
        )
        self._check(resp)

    def replace_participants(self, conversation_id, participants):
        ops = [
            {"operation": "set", "property": "participants", "value": list(participants)},
        ]
        resp = self.session.patch(self._url(f"/conversations/{conversation_id}"), data=json.dumps(ops),
                                  headers={"Content-Type": PATCH_CONTENT_TYPE}, timeout=self.timeout)
        self._check(resp)

    # -- messages ------------------------------------------------------------------------
    def message_body(self, user_id, text, notify=None):
        """The body of a message sent on behalf of a user (``notify`` = per-user push texts)."""
        body = {
            "sender": {"user_id": user_id},
            "parts": [{"body": text, "mime_type": "text/plain"}],
        }
        if notify:
            body["notification"] = {
                "text": text,
                "sound": "chime.aiff",
                "recipients": {user: {"text": note} for user, note in notify.items()},
            }
        return body

    def send_message(self, conversation_id, user_id, text, notify=None):
        url = self._url("/conversations/%s/messages" % conversation_id)  # noqa: UP031 (2016 code)
        resp = self.session.post(url, json=self.message_body(user_id, text, notify), timeout=self.timeout)
        return self._check(resp)

    def send_as(self, conversation_id, agent, text):
        """Send ``text`` as ``agent`` (an :class:`Agent`); returns a :class:`Message`."""
        body = {"sender": agent.as_sender(), "parts": [{"body": text, "mime_type": "text/plain"}]}
        resp = self.session.post(self._url(f"/conversations/{conversation_id}/messages"), json=body,
                                 timeout=self.timeout)
        return Message.from_dict(self._check(resp))

    def conversation(self, conversation_id):
        """The conversation as a :class:`Conversation` (participants are user ids)."""
        return Conversation.from_dict(self.get_conversation(conversation_id))

    def send_bot_message(self, conversation_id, text):
        """Post as the support bot: v1 lets any display name be a sender."""
        resp = self.session.post(
            self._url(f"/conversations/{conversation_id}/messages"),
            json={
                "sender": {"name": "Support"},  # shown as "Support" in the apps
                "parts": [{"body": text, "mime_type": "text/plain"}],
            },
            timeout=self.timeout,
        )
        return self._check(resp)

    def list_messages(self, conversation_id):
        resp = self.session.get(self._url(f"/conversations/{conversation_id}/messages"), timeout=self.timeout)
        return self._check(resp)

    def status_for(self, message, user_id):
        """Delivery status of ``message`` for one user: sent, delivered or read."""
        return message["recipient_status"][user_id]

    def sender_label(self, message):
        sender = message["sender"]
        return sender["name"] or sender["user_id"]

    # -- announcements and notifications ------------------------------------------------
    def announce(self, recipients, text):
        body = {
            "recipients": recipients,
            "sender": {"name": "Support"},
            "parts": [{"body": text, "mime_type": "text/plain"}],
            "notification": {"text": text},
        }
        resp = self.session.post(self._url("/announcements"), json=body, timeout=self.timeout)
        return self._check(resp)

    def notify(self, recipients, text, per_user=None):
        notification = {"text": text, "sound": "ping.aiff"}
        if per_user:
            notification["recipients"] = [{"user_id": u, "text": t} for u, t in per_user.items()]
        resp = self.session.post(self._url("/notifications"),
                                 json={"recipients": recipients, "notification": notification},
                                 timeout=self.timeout)
        self._check(resp)

    # -- block lists --------------------------------------------------------------------
    def block(self, owner_id, user_id):
        resp = self.session.post(self._url("/users/" + quote(owner_id, safe="") + "/blocks"),
                                 json={"user_id": user_id}, timeout=self.timeout)
        self._check(resp)

    def unblock(self, owner_id, user_id):
        resp = self.session.delete(
            self._url(f"/users/{quote(owner_id, safe='')}/blocks/{quote(user_id, safe='')}"),
            timeout=self.timeout,
        )
        self._check(resp)

    def blocked_users(self, owner_id):
        resp = self.session.get(self._url(f"/users/{quote(owner_id, safe='')}/blocks"), timeout=self.timeout)
        return sorted(entry["user_id"] for entry in self._check(resp))

    # -- identities ---------------------------------------------------------------------
    def create_identity(self, user_id, display_name, **fields):
        body = dict(fields, display_name=display_name)
        resp = self.session.post(self._url(f"/users/{quote(user_id, safe='')}/identity"), json=body,
                                 timeout=self.timeout)
        self._check(resp)

    def get_identity(self, user_id):
        resp = self.session.get(self._url(f"/users/{quote(user_id, safe='')}/identity"), timeout=self.timeout)
        return self._check(resp)

    # -- webhooks -------------------------------------------------------------------------
    def register_webhook(self, target_url, secret, events=("message.sent",), config=None):
        body = {"version": "1.0", "target_url": target_url, "events": list(events), "secret": secret,
                "config": config or {}}
        resp = self.session.post(self._url("/webhooks"), json=body, headers={"Accept": WEBHOOKS_ACCEPT},
                                 timeout=self.timeout)
        return self._check(resp)

    def get_webhook(self, webhook_id):
        resp = self.session.get(self._url("/webhooks/" + webhook_id.rsplit("/", 1)[-1]),
                                headers={"Accept": WEBHOOKS_ACCEPT}, timeout=self.timeout)
        return self._check(resp)
