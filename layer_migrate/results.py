"""The result types of the ``translate_*`` functions.

Plain data (what was translated, which rules applied, what was lossy); kept out of the engine so
callers that only read or serialise results (CLI, proxy report, webhook relay) depend on a tiny
module, and so the engine file holds only the logic that produces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .exchange import Request, Response
from .prerequisites import Prerequisite

__all__ = ["PayloadTranslation", "ResponseTranslation", "Translation", "WebhookTranslation"]


@dataclass(slots=True)
class Translation:
    """A translated request. ``endpoint`` is the client's endpoint (``blocks.create`` even when R38
    sends it as ``users.patch``); None for paths the route table does not know."""

    request: Request
    prerequisites: list[Prerequisite]
    applied: list[str]
    lossy: list[str]
    source: str
    target: str
    endpoint: str | None

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request.to_json(),
                "prerequisites": [p.to_json() for p in self.prerequisites],
                "applied": list(self.applied), "lossy": list(self.lossy)}


@dataclass(slots=True)
class ResponseTranslation:
    response: Response
    applied: list[str]
    lossy: list[str]
    source: str
    target: str
    endpoint: str | None
    #: R10: fulfil these, then retry the original request (empty unless ``autocreate_users``).
    prerequisites: list[Prerequisite] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"response": self.response.to_json(), "applied": list(self.applied),
                               "lossy": list(self.lossy)}
        if self.prerequisites:
            out["prerequisites"] = [p.to_json() for p in self.prerequisites]
        return out


@dataclass
class PayloadTranslation:
    payload: Any
    applied: list[str]
    lossy: list[str]
    prerequisites: list[Prerequisite] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"payload": self.payload, "applied": list(self.applied), "lossy": list(self.lossy),
                "prerequisites": [p.to_json() for p in self.prerequisites]}


@dataclass
class WebhookTranslation:
    events: list[tuple[str, Any]]
    applied: list[str]
    lossy: list[str]
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"events": [{"type": t, "body": b} for t, b in self.events],
                "applied": list(self.applied), "lossy": list(self.lossy), "reason": self.reason}
