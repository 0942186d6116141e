"""Prerequisites: what the caller must make true upstream before sending a translated request.

Separate from the engine because they are a small contract of their own: rules create them
(``ctx.require``), the proxy and the CLI fulfil them by turning each into an upstream request, and
none of that needs the rulebook or the pipelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import routes
from .exchange import Request
from .identity import identity_id
from .options import Options
from .versions import PATCH_MEDIA_TYPE, accept_header

__all__ = ["EnsureIdentity", "EnsureParticipant", "Prerequisite"]


class Prerequisite:
    """Something the caller must make true upstream before sending the translated request."""

    key: tuple[Any, ...]

    def to_request(self, app_id: str, version: str, options: Options | None = None) -> Request:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class EnsureIdentity(Prerequisite):
    """R22/R35: the bot identity a v1 ``sender.name`` maps to must exist.

    Fulfilled by ``POST /apps/:app/users/:uid/identity`` → 201, or 409 (exists already).
    """

    user_id: str
    display_name: str
    identity_type: str = "bot"

    @property
    def key(self) -> tuple[Any, ...]:  # type: ignore[override]
        return ("identity", self.user_id)

    def body(self, version: str, options: Options | None = None) -> dict[str, Any]:
        style = (options or Options()).identity_type_field
        body: dict[str, Any] = {"display_name": self.display_name}
        if version in ("1.0", "1.1"):
            return body
        if style in ("identity_type", "both"):
            body["identity_type"] = self.identity_type.lower()
        if style in ("type", "both"):
            body["type"] = self.identity_type.capitalize()
        return body

    def to_request(self, app_id: str, version: str, options: Options | None = None) -> Request:
        path = routes.build_path("identity.create", app=app_id, user=self.user_id)
        return Request("POST", path, {"accept": accept_header(version),
                                      "content-type": "application/json"},
                       self.body(version, options))

    def to_json(self) -> dict[str, Any]:
        return {"kind": "ensure_identity", "user_id": self.user_id,
                "display_name": self.display_name, "identity_type": self.identity_type}


@dataclass(frozen=True)
class EnsureParticipant(Prerequisite):
    """R22 risk option: the bot must be a participant of the conversation it sends to."""

    conversation_id: str
    user_id: str

    @property
    def key(self) -> tuple[Any, ...]:  # type: ignore[override]
        return ("participant", self.conversation_id, self.user_id)

    def to_request(self, app_id: str, version: str, options: Options | None = None) -> Request:
        path = routes.build_path("conversations.patch", app=app_id, conversation=self.conversation_id)
        return Request("PATCH", path, {"accept": accept_header(version),
                                       "content-type": PATCH_MEDIA_TYPE},
                       [{"operation": "add", "property": "participants", "id": identity_id(self.user_id)}])

    def to_json(self) -> dict[str, Any]:
        return {"kind": "ensure_participant", "conversation_id": self.conversation_id,
                "user_id": self.user_id}
