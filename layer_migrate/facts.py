"""Declared facts: what a rule changes, as data that the engine *and* the codemod read.

A rule that says "in the body of ``conversations.create``, each element of ``participants``
maps user id → identity id" states it once as a :class:`FieldFact`; the engine applies it to live
payloads and the codemod applies it to dict literals in source code. Rules whose change cannot be
stated this way (status 202 → 204, part-id renumbering) declare no facts and register code.

Paths are dotted JSON paths into a body: ``a.b`` descends objects, ``a[]`` means "each element
of the array at ``a``", ``a{}`` means "each key of the object at ``a``". ``""`` is the body itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["request", "response"]

#: FieldFact actions (what happens to the value found at ``path``):
#:  - ``identity_id``: user id → ``layer:///identities/<encoded>`` (R11), never double-prefixed.
#:  - ``user_id``: identity id or BasicIdentity → user id (R12).
#:  - ``bot_identity``: a v1 ``sender.name`` → identity id of the directory's bot (R22/R35);
#:    needs the bot identity to exist (a prerequisite).
#:  - ``recipient_overrides``: v1 per-recipient notification overrides (map keyed by user id, or
#:    array of ``{"user_id": …}``) → 2.0 array of ``{"recipient": <identity id>, …}`` (R26).
#:  - ``sender_object``: BasicIdentity → v1 ``{"user_id", "name"}`` (R24).
#:  - ``remove``: the key is dropped (3.0-only fields for v1 consumers).
FieldAction = Literal[
    "identity_id", "user_id", "bot_identity", "recipient_overrides", "sender_object", "remove",
]


@dataclass(frozen=True)
class FieldFact:
    """In bodies of ``endpoints`` (direction ``direction``), the value at ``path`` changes.

    With ``to`` set the value also moves: ``path="sender.user_id", to="sender_id"`` removes
    ``sender`` (when it becomes empty) and writes ``sender_id``.
    """

    rule: str
    endpoints: frozenset[str]
    direction: Direction
    path: str
    action: FieldAction
    to: str | None = None


@dataclass(frozen=True)
class PatchOpFact:
    """In Layer-Patch bodies of ``endpoints``, operations on ``property`` change (R16/R17/R40/R41).

    ``action``:
     - ``value_to_id``: add/remove ``{"value": u}`` → ``{"id": ID(u)}``.
     - ``set_to_clear_and_add``: ``set`` with a non-empty list → ``set []`` then one ``add`` per id.
    """

    rule: str
    endpoints: frozenset[str]
    property: str
    action: Literal["value_to_id", "set_to_clear_and_add"]


@dataclass(frozen=True)
class RouteFact:
    """A v1 call that became a different call (R38/R39: block-list POST/DELETE → PATCH).

    ``body_op`` names the Layer-Patch operation the new body carries (``add``/``remove`` on
    ``property`` with ``id`` = identity id of the user taken from ``user_from``:
    ``"body.user_id"`` or ``"path.blocked"``).
    """

    rule: str
    from_endpoint: str
    to_endpoint: str
    to_method: str
    content_type: str
    property: str
    body_op: Literal["add", "remove"]
    user_from: str
    #: ``(v1 status the client expects, newer server's status)``, e.g. ``(204, 202)``: the newer
    #: server answers 202 and the v1 client is told 204.
    status_map: tuple[int, int] | None = None


@dataclass(frozen=True)
class MediaTypeFact:
    """The ``version`` parameter of ``media_type`` changes from one of ``from_versions`` to the target."""

    rule: str
    media_type: str
    from_versions: tuple[str, ...]


@dataclass(frozen=True)
class ResponseReadFact:
    """A response field whose shape changed; code reading it must be checked (codemod markers).

    ``path`` as in :class:`FieldFact`; ``note`` is the one-line instruction for the marker.
    """

    rule: str
    endpoints: frozenset[str]
    path: str
    note: str


#: The parts of webhook delivery translation (spec §12): ``event_names`` (R50: the §12.3 table,
#: events without a 1.0 equivalent dropped), ``actor`` (R51), ``objects`` (R52: embedded message /
#: conversation through the object rules), ``drop_events`` (the events listed in ``events`` — a
#: trailing ``*`` is a prefix — exist only at 3.0: R30's ``MessagePart.*``), ``edit_events`` (the
#: listed events are edits unless they carry a receipt, and have no 1.0 form: R30's
#: ``Message.updated``).
WebhookPart = Literal["event_names", "actor", "objects", "drop_events", "edit_events"]


@dataclass(frozen=True)
class WebhookFact:
    """This rule owns ``part`` of translating webhook deliveries down (R30, R50–R52).

    The engine's delivery translation does each part only when some rule declares it, and reports
    that rule's id in ``applied``: the behaviour and the id live with the rule, not the engine.
    """

    rule: str
    part: WebhookPart
    events: tuple[str, ...] = ()

    def covers(self, event_type: str) -> bool:
        """True when ``event_type`` is one of :attr:`events` (``"MessagePart.*"`` = a prefix)."""
        return any(event_type == e or (e.endswith("*") and event_type.startswith(e[:-1]))
                   for e in self.events)


Fact = FieldFact | PatchOpFact | RouteFact | MediaTypeFact | ResponseReadFact | WebhookFact
