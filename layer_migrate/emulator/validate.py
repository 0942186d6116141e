"""Body validation shared by the handlers: identity references, parts, notifications, metadata.

Strict by default: a 2.0/3.0 request carrying a v1 shape gets the Layer error the spec names
(R14/R16/R26/R34 "if sent unchanged": ``422 invalid_property``). ``lenient`` reproduces the
leniency the spec marks INFERRED (§3.1, §4.4 OBS): bare user ids accepted where identity ids
are expected, and per-recipient notification overrides accepted in the v1 shapes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from ..errors import invalid_property, missing_property
from ..versions import is_v1
from .ids import IDENTITY_PREFIX, is_uuid, new_uuid, user_of_identity_uri
from .settings import EmulatedFailure

#: Inline part body limit after base64 decoding (§5.2).
INLINE_LIMIT = 2048
MAX_STRING = 128
NOTIFICATION_STRING_KEYS = ("text", "sound", "title", "category", "title-loc-key", "loc-key", "action-loc-key")
NOTIFICATION_LIST_KEYS = ("title-loc-args", "loc-args")


def user_ref(value: Any, version: str, prop: str, *, lenient: bool) -> str:
    """The user id named by ``value``: a user id in 1.x, an identity id in 2.0+ (§3.1)."""
    if not isinstance(value, str) or not value:
        raise invalid_property(prop, f"Property '{prop}' must contain non-empty strings")
    if is_v1(version):
        return value
    uid = user_of_identity_uri(value)
    if uid is not None:
        return uid
    if lenient and not value.startswith(IDENTITY_PREFIX):
        return value
    raise invalid_property(prop, f"Property '{prop}' must contain Layer Identity IDs "
                                 f"(layer:///identities/<user_id>), got {value!r}")


def user_list(value: Any, version: str, prop: str, *, lenient: bool, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list):
        raise invalid_property(prop, f"Property '{prop}' must be an array")
    if not value and not allow_empty:
        raise invalid_property(prop, f"Property '{prop}' must not be empty")
    out: list[str] = []
    for item in value:
        uid = user_ref(item, version, prop, lenient=lenient)
        if uid not in out:
            out.append(uid)
    return out


def metadata(value: Any, prop: str = "metadata") -> dict[str, Any] | None:
    """Conversation metadata: an object whose leaves are strings (§4.2/§4.5)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_property(prop, f"Property '{prop}' must be an object")
    _metadata_leaves(value, prop)
    return value


def _metadata_leaves(obj: dict[str, Any], prop: str) -> None:
    for k, v in obj.items():
        if isinstance(v, dict):
            _metadata_leaves(v, f"{prop}.{k}")
        elif not isinstance(v, str):
            raise invalid_property(prop, f"Metadata values must be strings or objects ('{prop}.{k}')")


def _always(_key: str) -> bool:
    return True


def parts(value: Any, version: str, *, allow_ids: bool, content_exists: Any = None,
          since: Callable[[str], bool] = _always) -> list[dict[str, Any]]:
    """Validate message/announcement ``parts`` (§5.2) into neutral parts with a UUID each.

    3.0 may carry ``parts[].id`` (bare UUID or ``layer:///messages/<m>/parts/<uuid>``, §5.4);
    earlier versions reject it in strict mode (it did not exist there).
    """
    if value is None:
        raise missing_property("parts")
    if not isinstance(value, list) or not value:
        raise invalid_property("parts", "Property 'parts' must be a non-empty array")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, p in enumerate(value):
        out.append(part(p, f"parts[{i}]", version, allow_ids=allow_ids, seen=seen, content_exists=content_exists,
                        since=since))
    return out


def part(p: Any, where: str, version: str, *, allow_ids: bool, seen: set[str] | None = None,
         content_exists: Any = None, since: Callable[[str], bool] = _always) -> dict[str, Any]:
    """One part; ``where`` (``parts[0]``, or ``part`` on the 3.0 part endpoints) prefixes
    ``data.property``. The first three refusals use the engine's exact texts (R32), so a v1 client
    sees the same error directly and through the proxy."""
    label = f"Message part {where[6:-1]}" if where.startswith("parts[") else "Message part"
    if not isinstance(p, dict):
        raise invalid_property(where, f"{label} must be an object")
    p = _present(p)
    if "body" in p and "content" in p:
        raise invalid_property(where, f"{label} has both 'body' and 'content'")
    body, enc = p.get("body"), p.get("encoding")
    raw: bytes | None = None
    if enc == "base64" and body is not None:
        try:
            if not isinstance(body, str):
                raise ValueError
            raw = base64.b64decode(body.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            if not since("base64_graceful"):
                raise EmulatedFailure("invalid base64 part body (handled gracefully since 2015-08-02)") from None
            raise invalid_property(f"{where}.body", f"{label} is declared base64 but its body is not valid "
                                                    "base64") from None
    mime = p.get("mime_type")
    if mime is None:
        raise missing_property("mime_type", where)
    if not isinstance(mime, str) or "/" not in mime:
        raise invalid_property(f"{where}.mime_type", f"{where}.mime_type must be a MIME type string")
    has_body, has_content = body is not None, p.get("content") is not None
    if not has_body and not has_content:
        raise missing_property("body", where)
    unknown = set(p) - {"mime_type", "body", "encoding", "content", "id"}
    if unknown:
        raise invalid_property(where, f"{where} has unknown properties: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {"uuid": None, "mime_type": mime}
    pid = p.get("id")
    if pid is not None:
        if not allow_ids:
            raise invalid_property(f"{where}.id", f"{where}.id is not accepted before version 3.0")
        puuid = pid.rsplit("/", 1)[-1] if isinstance(pid, str) else None
        if not puuid or not is_uuid(puuid) or (isinstance(pid, str) and "/" in pid and not pid.startswith("layer:///messages/")):
            raise invalid_property(f"{where}.id", f"{where}.id must be null or a valid unique UUID")
        puuid = puuid.lower()
        if seen is not None:
            if puuid in seen:
                raise invalid_property(f"{where}.id", f"{where}.id must be null or a valid unique UUID")
            seen.add(puuid)
        out["uuid"] = puuid
    if has_body:
        if not isinstance(body, str):
            raise invalid_property(f"{where}.body", f"{where}.body must be a string")
        if enc is not None:
            if enc != "base64":
                raise invalid_property(f"{where}.encoding", f"{where}.encoding must be 'base64'")
            out["encoding"] = "base64"
        else:
            raw = body.encode("utf-8")
        assert raw is not None
        if enc == "base64" and not since("base64_binary"):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise EmulatedFailure("base64 of non-UTF-8 bytes (fixed 2015-09-24)") from None
        if len(raw) > INLINE_LIMIT and since("inline_limit"):
            raise invalid_property(f"{where}.body", f"{where}.body is {len(raw)} bytes; inline parts are limited "
                                                    f"to {INLINE_LIMIT} bytes (use rich content)")
        out["body"] = body
    else:
        if not since("rich_content"):
            raise invalid_property(f"{where}.content", f"{where}: rich content parts arrived on 2016-02-24")
        c = p["content"]
        if not isinstance(c, dict):
            raise invalid_property(f"{where}.content", f"{where}.content must be an object")
        cid = c.get("id")
        if not isinstance(cid, str):
            raise missing_property("id", f"{where}.content")
        cuuid = cid.rsplit("/", 1)[-1]
        if not is_uuid(cuuid):
            raise invalid_property(f"{where}.content.id", f"{where}.content.id must be a Layer content id")
        size = c.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise invalid_property(f"{where}.content.size", f"{where}.content.size must be a non-negative integer")
        if content_exists is not None and not content_exists(cuuid.lower()):
            raise invalid_property(f"{where}.content.id", f"{where}.content.id names no uploaded content")
        out["content"] = {"uuid": cuuid.lower(), "size": size}
        if enc is not None:
            raise invalid_property(f"{where}.encoding", f"{where}.encoding is only allowed with 'body'")
    return out


def assign_part_ids(neutral: list[dict[str, Any]]) -> None:
    for p in neutral:
        if not p.get("uuid"):
            p["uuid"] = new_uuid()


def notification(value: Any, version: str, *, lenient: bool) -> dict[str, Any] | None:
    """Validate a ``notification`` object (§7.1) into neutral form: root keys plus
    ``overrides`` = ``{user_id: {keys}}`` from whichever per-recipient shape the version uses (§7.2)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_property("notification", "Property 'notification' must be an object")
    root: dict[str, Any] = {}
    overrides: dict[str, dict[str, Any]] = {}
    for k, v in value.items():
        if k == "recipients" or v is None:
            continue  # a null optional key is absent (LayerClient sends "sound": null)
        _notification_key(k, v, "notification")
        root[k] = v
    recips = value.get("recipients")
    if recips is not None:
        overrides = _overrides(recips, version, lenient=lenient)
    return {"root": root, "overrides": overrides}


def _notification_key(k: str, v: Any, where: str) -> None:
    if k in NOTIFICATION_STRING_KEYS:
        if not isinstance(v, str):
            raise invalid_property("notification", f"{where}.{k} must be a string")
    elif k in NOTIFICATION_LIST_KEYS:
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise invalid_property("notification", f"{where}.{k} must be an array of strings")
    elif k in ("data", "apns"):
        if not isinstance(v, dict):
            raise invalid_property("notification", f"{where}.{k} must be an object")
    else:
        raise invalid_property("notification", f"{where} has an unknown property '{k}'")


def _present(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without its null values: where the spec is silent a null optional field counts as
    absent (LayerClient 0.1.10 sends per-recipient ``"sound": null``; docs/emulator.md)."""
    return {k: v for k, v in obj.items() if v is not None}


def _overrides(recips: Any, version: str, *, lenient: bool) -> dict[str, dict[str, Any]]:
    where = "notification.recipients"
    out: dict[str, dict[str, Any]] = {}
    v1 = is_v1(version)
    if isinstance(recips, dict):
        # (a) the 2015 map keyed by user id — a 1.x shape (§7.2).
        if not v1 and not lenient:
            raise invalid_property("notification", f"{where} must be an array of objects with 'recipient' "
                                                   "(Layer Identity ID) in version " + version)
        for uid, keys in recips.items():
            if not isinstance(keys, dict):
                raise invalid_property("notification", f"{where}.{uid} must be an object")
            keys = _present(keys)
            for k, v in keys.items():
                _notification_key(k, v, f"{where}.{uid}")
            out[uid] = keys
        return out
    if not isinstance(recips, list):
        raise invalid_property("notification", f"{where} must be an array")
    for i, entry in enumerate(recips):
        if not isinstance(entry, dict):
            raise invalid_property("notification", f"{where}[{i}] must be an object")
        keys = _present(entry)
        if v1:
            uid = keys.pop("user_id", None)
            if "recipient" in keys:
                raise invalid_property("notification", f"{where}[{i}] uses 'recipient'; version {version} expects 'user_id'")
            if not isinstance(uid, str) or not uid:
                raise missing_property("user_id", f"{where}[{i}]")
        else:
            ref = keys.pop("recipient", None)
            if ref is None and lenient and isinstance(keys.get("user_id"), str):
                ref = keys.pop("user_id")
            if ref is None:
                if "user_id" in keys:
                    raise invalid_property("notification", f"{where}[{i}] uses 'user_id'; version {version} "
                                                           "expects 'recipient' (Layer Identity ID)")
                raise missing_property("recipient", f"{where}[{i}]")
            uid = user_ref(ref, version, "notification.recipients", lenient=lenient)
        for k, v in keys.items():
            _notification_key(k, v, f"{where}[{i}]")
        out[uid] = keys
    return out


def string_field(body: dict[str, Any], key: str, *, max_len: int = MAX_STRING, required: bool = False,
                 what: str = "Object") -> str | None:
    v = body.get(key)
    if v is None:
        if required:
            raise missing_property(key, what)
        return None
    if not isinstance(v, str):
        raise invalid_property(key, f"Property '{key}' must be a string")
    if len(v) > max_len:
        raise invalid_property(key, f"Property '{key}' is longer than {max_len} characters")
    return v


def boolean(body: dict[str, Any], key: str, default: bool) -> bool:
    v = body.get(key, default)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise invalid_property(key, f"Property '{key}' must be a boolean")
    return v


def patch_user_operand(ctx: Any, op: dict[str, Any], where: str, prop: str) -> str:
    """The user an ``add``/``remove`` on a user-list property names (participants §4.4, blocks §9).

    1.x carries the user id in ``value``; 2.0+ carries the identity id in ``id`` (R16/R40), and
    only ``--lenient`` accepts the v1 ``value`` there (INFERRED leniency, spec §3.1/§4.4).
    """
    if ctx.v1:
        value = op.get("value")
        if not isinstance(value, str) or not value:
            raise invalid_property(prop, f"{where}: 'value' must be a user id string")
        return value
    ref = op.get("id")
    if ref is None:
        if ctx.lenient and isinstance(op.get("value"), str):
            ref = op["value"]
        else:
            raise invalid_property(prop, f"{where}: in version {ctx.version} {prop} are added and removed "
                                         "by 'id' (a Layer Identity ID)")
    return user_ref(ref, ctx.version, prop, lenient=ctx.lenient)


def reject_unknown_keys(ctx: Any, body: dict[str, Any], allowed: frozenset[str] | set[str], noun: str) -> None:
    """Strict mode: a body key the version does not define is refused, naming it (§5.2, §6).

    A v1 ``sender`` object sent to 2.0+ is reported as the missing ``sender_id`` it should have
    been (R21, INFERRED code), which is what a v1 client talking to a newer server needs to read.
    """
    unknown = set(body) - allowed
    if not unknown:
        return
    if not ctx.v1 and "sender" in unknown and "sender_id" not in body:
        raise missing_property("sender_id")
    prop = sorted(unknown)[0]
    raise invalid_property(prop, f"Unknown {noun} property '{prop}' in version {ctx.version}")
