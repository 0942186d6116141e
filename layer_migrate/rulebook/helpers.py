"""Helpers rule modules share: v1 sender validation and the identity / bot conversions.

They are the vocabulary of R11/R12/R22–R24 in the form hooks need (a :class:`Context` gives the
options and the bot directory). The engine's declared-fact actions use the same functions, so a
hook and a declared fact convert a sender identically.
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError, invalid_property, invalid_request
from ..identity import IDENTITY_PREFIX, default_bot_user_id, identity_id, user_id_of
from .context import Context

_PREFIX_LEN = len(IDENTITY_PREFIX)

__all__ = ["bot_name", "check_sender", "fast_identity_id", "fast_user_id", "sender_from_v1",
           "sender_to_v1"]


def check_sender(ctx: Context, allow_user_id: bool = True) -> bool:
    """Validate and normalise a v1 ``sender`` (R23 for messages, R35 for announcements).

    Raises the v1 errors (when ``options.emulate_v1_errors``); drops explicit null keys so the
    declared move facts see exactly one of ``user_id``/``name``.
    """
    body = ctx.body
    if not isinstance(body, dict):
        if ctx.options.emulate_v1_errors:
            raise invalid_request("The request body must be a JSON object", data={"property": "body"})
        return False
    sender = body.get("sender")
    if sender is None:
        if "sender_id" in body:  # already in the newer shape (half-migrated client)
            return False
        if ctx.options.emulate_v1_errors:
            raise LayerError("missing_property", "Object is missing required member 'sender'",
                             data={"property": "sender"})
        return False
    if not isinstance(sender, dict):
        raise invalid_property("sender", "Property 'sender' must be an object with 'user_id' or 'name'")
    uid, name = sender.get("user_id"), sender.get("name")
    if ctx.options.emulate_v1_errors:
        if uid is not None and name is not None:
            raise invalid_property("sender", "Only one of 'sender.name' and 'sender.user_id' may be given")
        if uid is None and name is None:
            raise LayerError("missing_property", "Object is missing required member 'sender.user_id' or 'sender.name'",
                             data={"property": "sender"})
        if uid is not None and not allow_user_id:
            raise invalid_property("sender.user_id", "Announcements are sent with 'sender.name'; 'sender.user_id' is not allowed")
    if len(sender) > (uid is not None) + (name is not None):
        # explicit nulls, or profile keys beside the one that names the sender (LayerClient's
        # Sender.as_dict sends display_name, avatar_url, …: evidence v1 took and ignored them;
        # 2.0 has no ``sender`` to carry them, the identity holds the profile)
        ctx.body = {**body, "sender": {k: v for k, v in sender.items()
                                       if v is not None and k in _SENDER_KEYS}}
        return True
    return False


_SENDER_KEYS = ("user_id", "name")


IDENTITY_ID_CACHE: dict[str, str] = {}


def fast_identity_id(u: str) -> str:
    """:func:`layer_migrate.identity.identity_id`, memoised (user ids repeat across requests)."""
    hit = IDENTITY_ID_CACHE.get(u)
    if hit is None:
        hit = identity_id(u)
        if len(IDENTITY_ID_CACHE) >= 65536:
            IDENTITY_ID_CACHE.clear()
        IDENTITY_ID_CACHE[u] = hit
    return hit


def fast_user_id(v: Any) -> Any:
    """:func:`layer_migrate.identity.user_id_of` without ``unquote`` when nothing is escaped."""
    if isinstance(v, str):
        if v.startswith(IDENTITY_PREFIX):
            rest = v[_PREFIX_LEN:]
            return user_id_of(v) if "%" in rest else rest
        return v
    if isinstance(v, dict):
        uid = v.get("user_id")
        if isinstance(uid, str):
            return uid
    return user_id_of(v)


def sender_to_v1(s: Any, ctx: Context, where: str = "") -> Any:
    """R24: BasicIdentity → v1 ``{"user_id", "name"}`` (one of them null). (``where`` makes it a
    declared-fact action as well: the property path, unused.)"""
    if not isinstance(s, dict):
        return s
    if "id" not in s and ("name" in s or ("user_id" in s and "display_name" not in s)):
        return s  # already v1
    if s.get("id") is None and s.get("user_id") is None:
        return {"user_id": None, "name": s.get("display_name")}
    uid = s.get("user_id")
    if type(uid) is not str:  # user_id_of's first answer, inlined: every message has a sender
        uid = user_id_of(s)
    name = bot_name(uid, s, ctx)
    if name is not None:
        return {"user_id": None, "name": name}
    return {"user_id": uid, "name": None}


def bot_name(uid: str | None, identity: dict[str, Any], ctx: Context) -> str | None:
    """NAME[uid] (R24): from the bot directory, or — for a directory that has not seen the name in
    this process — a ``display_name`` whose deterministic default bot id is ``uid``."""
    name = ctx.options.bots.name_for(uid)
    if name is None and uid is not None and uid.startswith("bot-") and not ctx.options.bots.strict:
        dn = identity.get("display_name")
        if isinstance(dn, str) and default_bot_user_id(dn) == uid:
            return dn
    return name


def sender_from_v1(s: Any, ctx: Context) -> Any:
    """Inverse of R24 for stored payloads: v1 sender → a minimal BasicIdentity."""
    if not isinstance(s, dict) or "id" in s:
        return s
    uid, name = s.get("user_id"), s.get("name")
    if uid is None and name is not None:
        bot = ctx.options.bots.user_id_for(name) if ctx.options.bots.is_bot(
            ctx.options.bots.mapping.get(name)) else None
        if bot is None:
            return {"id": None, "url": None, "user_id": None, "display_name": name}
        return {"id": identity_id(bot), "user_id": bot, "display_name": name}
    if uid is None:
        return s
    return {"id": identity_id(uid), "user_id": uid, "display_name": None}
