"""Where API objects live in responses: the kinds object hooks see and their locations.

Vocabulary shared by rule declarations (``Rule.object_field`` targets the endpoints returning a
kind) and the engine (which walks a response body to each object).
"""

from __future__ import annotations

#: API object kinds the object hooks and payload translation know (spec §3–§12).
OBJECT_KINDS: tuple[str, ...] = (
    "message", "conversation", "announcement", "identity", "block", "user", "webhook",
)

#: Where each object kind appears in response bodies: endpoint → (kind, locator). Locators:
#: ``""`` the body is the object, ``"[]"`` a list of them.
OBJECT_LOCATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "conversations.create": (("conversation", ""),),
    "conversations.get": (("conversation", ""),),
    "user.conversations.list": (("conversation", "[]"),),
    "user.conversations.get": (("conversation", ""),),
    "messages.send": (("message", ""),),
    "messages.list": (("message", "[]"),),
    "messages.get": (("message", ""),),
    "user.messages.list": (("message", "[]"),),
    "user.messages.get": (("message", ""),),
    "announcements.send": (("announcement", ""),),
    "blocks.list": (("block", "[]"),),
    "identity.get": (("identity", ""),),
    "users.get": (("user", ""),),
    "webhooks.create": (("webhook", ""),),
    "webhooks.list": (("webhook", "[]"),),
    "webhooks.get": (("webhook", ""),),
    "webhooks.activate": (("webhook", ""),),
    "webhooks.deactivate": (("webhook", ""),),
}

#: Endpoints whose bodies are Layer-Patch (R05/R06; POST + override resolves to these).
PATCH_ENDPOINTS: frozenset[str] = frozenset(
    ("conversations.patch", "users.patch", "identity.patch", "app.patch"))


def endpoints_returning(kind: str) -> frozenset[str]:
    """Endpoint names whose response bodies carry ``kind`` objects (for declared facts)."""
    return frozenset(e for e, locs in OBJECT_LOCATIONS.items() if any(k == kind for k, _ in locs))
