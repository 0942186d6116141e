"""Lookups shared by handlers: users that must exist, live conversations, visible messages.

Error ids and messages are identical in every version (architecture.md: errors pass through the
proxy unchanged), so they are built here once.
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError, not_found
from .http import Ctx
from .ids import now, uuid_from

CONVERSATION_DELETED = "The referenced conversation has been deleted."
CONVERSATION_NOT_FOUND = "A Conversation with the specified identifier could not be found."
MESSAGE_NOT_FOUND = "A Message with the specified identifier could not be found."


def user_not_found(user_id: str) -> LayerError:
    return not_found(f"A User with the specified identifier could not be found: {user_id}")


def existing_user(ctx: Ctx, user_id: str) -> dict[str, Any]:
    """The user named in a ``/users/:user_id/...`` path; 404 when unknown (June 2016 rule)."""
    user = ctx.store.user(user_id)
    if user is None:
        if not ctx.since("user_404"):
            return ensure_user(ctx, user_id)  # before 2016-06-21 users were created on the fly
        raise user_not_found(user_id)
    return user


def ensure_user(ctx: Ctx, user_id: str) -> dict[str, Any]:
    """Create a user implicitly (referenced as participant, sender, owner or recipient)."""
    user = ctx.store.user(user_id)
    if user is None:
        user = {"user_id": user_id, "created_at": now(), "identity": None, "suspended": False, "badge": 0}
        ctx.store.put_user(user)
    return user


#: The identity a participant has without an explicit create (R21): profile fields unset.
IMPLICIT_IDENTITY: dict[str, Any] = {"display_name": None, "avatar_url": None, "first_name": None,
                                     "last_name": None, "phone_number": None, "email_address": None,
                                     "public_key": None, "metadata": None, "identity_type": "user"}


def identity_of(ctx: Ctx, user: dict[str, Any] | None) -> dict[str, Any] | None:
    """The user's Identity as 2.0/3.0 see it, or ``None``.

    R21: "participants get identities implicitly" — at 2.0+ a participant of a live
    conversation has an (empty) Identity even if none was created, so it can be a ``sender_id``
    and its identity GET answers 200. 1.x had no such notion (its identity GET shows only
    explicitly created profiles). An explicit DELETE of the identity removes the implicit one too.
    """
    if user is None:
        return None
    if user.get("identity"):
        return user["identity"]
    if ctx.v1 or user.get("identity_deleted") or not ctx.store.is_participant(user["user_id"]):
        return None
    return dict(IMPLICIT_IDENTITY)


def users_map(ctx: Ctx, user_ids: Any) -> dict[str, dict[str, Any]]:
    return ctx.store.users_by_id(sorted({u for u in user_ids if u is not None}))


def conversation_any(ctx: Ctx, key: str = "conversation") -> dict[str, Any]:
    """The conversation of the path, deleted or not; 404 if it never existed."""
    cuuid = uuid_from(ctx.params[key], "conversations")
    conv = ctx.store.conversation(cuuid) if cuuid else None
    if conv is None:
        raise not_found(CONVERSATION_NOT_FOUND)
    return conv


def live_conversation(ctx: Ctx, key: str = "conversation") -> dict[str, Any]:
    """404 if it never existed, 410 ``object_deleted`` if deleted (§4.3, OBS)."""
    conv = conversation_any(ctx, key)
    if conv.get("deleted_at"):
        raise LayerError("object_deleted", CONVERSATION_DELETED)
    return conv


def user_conversation(ctx: Ctx, user_id: str) -> dict[str, Any]:
    """A conversation seen from a user: must currently be a participant (§4.3)."""
    conv = live_conversation(ctx)
    if user_id not in conv["participants"]:
        raise not_found(CONVERSATION_NOT_FOUND)
    return conv


def message_in(ctx: Ctx, conv: dict[str, Any], key: str = "message") -> dict[str, Any]:
    muuid = uuid_from(ctx.params[key], "messages")
    msg = ctx.store.message(muuid) if muuid else None
    if msg is None or msg.get("deleted_at") or msg["conversation"] != conv["uuid"]:
        raise not_found(MESSAGE_NOT_FOUND)
    return msg


def message_any(ctx: Ctx, key: str = "message") -> dict[str, Any]:
    muuid = uuid_from(ctx.params[key], "messages")
    msg = ctx.store.message(muuid) if muuid else None
    if msg is None or msg.get("deleted_at"):
        raise not_found(MESSAGE_NOT_FOUND)
    return msg


def unread_count(ctx: Ctx, conv_uuid: str, user_id: str) -> int:
    return ctx.store.unread_count(user_id, conv_uuid)
