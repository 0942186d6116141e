"""The translation engine: chains the rulebook between any two Platform API versions.

Pure (no network, no clock): ``(request, options) → request + prerequisites`` and
``(original request, response, options) → response``. Rules are chained per version step
(spec §14 legend): upgrades walk 1.0 → 1.1 → 2.0 → 3.0, downgrades walk back. Within a step
rules run in spec order going up and in reverse going down.

Pipelines (the list of callables for one endpoint, version pair and direction) are compiled once
and cached, so the proxy's hot path pays for nothing but the rules that actually concern the
request. Objects are rebuilt copy-on-write along the touched keys only (no deep copies).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote

from . import routes
from .errors import LayerError, invalid_header, invalid_property, invalid_request
from .exchange import Request, Response
from .facts import FieldFact, MediaTypeFact, PatchOpFact, RouteFact
from .identity import IDENTITY_PREFIX, BotDirectory, default_bot_user_id, identity_id, user_id_of
from .rulebook import ALL_STEPS, OBJECT_KINDS, OBJECT_LOCATIONS, Context, Rule, load_rulebook
from .versions import (
    PATCH_MEDIA_TYPE,
    PLATFORM_MEDIA_TYPE,
    STEPS,
    VERSIONS,
    WEBHOOKS_MEDIA_TYPE,
    UnknownVersion,
    accept_header,
    check_version,
    version_of,
)

__all__ = [
    "EnsureIdentity", "EnsureParticipant", "Engine", "Options", "PayloadTranslation", "Prerequisite",
    "ResponseTranslation", "Translation", "WebhookTranslation", "default_engine", "detect_version",
    "translate_payload", "translate_request", "translate_response", "translate_webhook",
]


# ---- options --------------------------------------------------------------------------------
@dataclass
class Options:
    """Every INFERRED choice of the spec, explicit (defaults in brackets).

    * ``bots`` — bot display name ⇄ bot user id (R22/R35/R24) [deterministic ``bot-<slug>``].
    * ``drop_nulls`` — R08: drop null-valued keys from v1 responses, as pre-June-2016 servers did
      [False: explicit nulls, as the 1.x server after 2016-06-21].
    * ``identity_type_field`` — R22/R44: how a bot identity's type is written when provisioning:
      ``"identity_type"`` (lower-case, 3.0 docs and real 2.0 servers, spec §3.3 advice),
      ``"type"`` (2.0 draft docs, ``"Bot"``), ``"both"`` [``"identity_type"`` for every target].
    * ``identity_ids_in_requests`` — R14/R34/R37/R16: send identity ids [True]; False sends bare user
      ids, relying on the leniency third-party libraries observed (INFERRED, spec §3.1).
    * ``part_ids`` — R27: ``"index"`` rewrites 3.0 UUID part ids to ``…/parts/<i>``; ``"keep"``
      leaves them [``"index"``].
    * ``distinct_303`` — R19: answer an existing distinct conversation (200) as pre-Sep-2015
      ``303 See Other`` + ``Location`` [False].
    * ``strip_identity_fields`` — R43: remove ``id``/``user_id``/``url``/``type``/``identity_type``
      from identity reads for v1 clients [True].
    * ``rewrite_error_url`` — R09: point error ``url`` at the v1 docs [True].
    * ``provision_bot_as_participant`` — R22 risk: also return a prerequisite adding the bot to the
      conversation before it sends [False].
    * ``emulate_v1_errors`` — R23/R34/R35/R38: refuse v1-invalid bodies locally with the v1 error
      instead of forwarding them [True].
    * ``system_unread_fields`` — R29: system-perspective ``received_at``/``is_unread`` become
      ``"null"`` (as the 1.x system perspective) or are ``"strip"``-ped [``"null"``].
    * ``conversation_updated_default`` — R50: v1 event for a 3.0 ``Conversation.updated`` without a
      change list [``"conversation.updated.metadata"``].
    * ``webhook_single_key_sender`` — R24/§12.3: webhook 1.0 payloads carry only the non-null key of
      ``sender``/``actor`` [True].
    * ``webhook_events_in_config`` — R53: a v1 webhook registration's own event list rides along in
      ``config`` (key ``layer_migrate_v1``) so read-backs and deliveries restore it exactly [True].
    * ``autocreate_users`` — R10: a 404 on ``/users/:uid/…`` for a v1 client returns an
      ``EnsureIdentity`` prerequisite (create, then retry), as pre-June-2016 servers auto-created
      users [False].
    """

    bots: BotDirectory = field(default_factory=BotDirectory)
    drop_nulls: bool = False
    identity_type_field: Literal["identity_type", "type", "both"] = "identity_type"
    identity_ids_in_requests: bool = True
    part_ids: Literal["index", "keep"] = "index"
    distinct_303: bool = False
    strip_identity_fields: bool = True
    rewrite_error_url: bool = True
    provision_bot_as_participant: bool = False
    emulate_v1_errors: bool = True
    system_unread_fields: Literal["null", "strip"] = "null"
    conversation_updated_default: str = "conversation.updated.metadata"
    webhook_single_key_sender: bool = True
    autocreate_users: bool = False
    webhook_events_in_config: bool = True

    def __post_init__(self) -> None:
        if self.identity_type_field not in ("identity_type", "type", "both"):
            raise ValueError("identity_type_field must be 'identity_type', 'type' or 'both'")
        if self.part_ids not in ("index", "keep"):
            raise ValueError("part_ids must be 'index' or 'keep'")
        if self.system_unread_fields not in ("null", "strip"):
            raise ValueError("system_unread_fields must be 'null' or 'strip'")

    def describe(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "bots"}
        out["bots"] = dict(self.bots.mapping)
        return out


# ---- prerequisites ----------------------------------------------------------------------------
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


# ---- results --------------------------------------------------------------------------------
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


# ---- versions ---------------------------------------------------------------------------------
_CHECKED: dict[Any, str] = {v: v for v in VERSIONS}


def _check(version: str, what: str = "version") -> str:
    hit = _CHECKED.get(version)
    if hit is not None:
        return hit
    try:
        return check_version(version)
    except (UnknownVersion, TypeError) as exc:
        raise LayerError("invalid_header" if what == "accept" else "invalid_request", str(exc),
                         data={"property": what}) from None


def is_webhooks_endpoint(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.startswith("webhooks.")  # type: ignore[union-attr]


def detect_version(request: Request, endpoint: str | None = None) -> str:
    """The Platform API version a client asked for (R04: no Layer media type in Accept = 1.0).

    ``webhooks.*`` endpoints read the webhooks media type (§1.2, §12.4); the undocumented
    webhooks ``version=1.1`` (snap-swap, OBS) counts as 1.0. An unknown version → ``406
    invalid_header`` (§1.2).
    """
    accept = request.headers.get("accept")
    if endpoint is None:
        m = routes.match(request.method, request.path)
        endpoint = m.name if m else None
    return _version_from_accept(accept, is_webhooks_endpoint(endpoint))


@lru_cache(maxsize=512)
def _version_from_accept(accept: str | None, webhooks: bool) -> str:
    if webhooks:
        v = version_of(accept, WEBHOOKS_MEDIA_TYPE) or version_of(accept)
        if v is None:
            return "1.0"
        if v == "1.1":
            return "1.0"
    else:
        v = version_of(accept)
        if v is None:
            if accept and PLATFORM_MEDIA_TYPE in accept.lower():
                raise invalid_header("Accept")
            return "1.0"
    if v not in VERSIONS:
        raise invalid_header("Accept")
    return v


# ---- generic application of declared facts ---------------------------------------------------
def _parse_path(path: str) -> tuple[tuple[str, str], ...]:
    """``"a.b[]"`` → ``(("a", ""), ("b", "[]"))``; ``"a{}"`` = the keys of object ``a``."""
    if not path:
        return ()
    tokens = []
    for part in path.split("."):
        if part.endswith("[]"):
            tokens.append((part[:-2], "[]"))
        elif part.endswith("{}"):
            tokens.append((part[:-2], "{}"))
        else:
            tokens.append((part, ""))
    return tuple(tokens)


Action = Callable[[Any, Context, str], Any]
_SKIP = object()  # an action's "leave this value alone"


def _apply(value: Any, tokens: tuple[tuple[str, str], ...], fn: Action, ctx: Context, where: str) -> Any:
    """Copy-on-write: rebuild only the containers along ``tokens``; unchanged → same object."""
    if not tokens:
        out = fn(value, ctx, where)
        return value if out is _SKIP else out
    if not isinstance(value, dict):
        return value
    name, kind = tokens[0]
    if name not in value:
        return value
    child = value[name]
    rest = tokens[1:]
    here = f"{where}.{name}" if where else name
    if kind == "":
        new = _apply(child, rest, fn, ctx, here)
    elif kind == "[]":
        if not isinstance(child, list):
            return value
        items = [_apply(e, rest, fn, ctx, f"{here}[{i}]") for i, e in enumerate(child)]
        new = child if all(a is b for a, b in zip(items, child, strict=False)) else items
    else:  # "{}": the keys of an object
        if not isinstance(child, dict):
            return value
        new = {}
        changed = False
        for k, v in child.items():
            nk = fn(k, ctx, here)
            if nk is _SKIP:
                nk = k
            changed = changed or nk != k
            new[nk] = v
        if not changed:
            new = child
    if new is child:
        return value
    out = dict(value)
    out[name] = new
    return out


def _get(value: Any, tokens: tuple[tuple[str, str], ...]) -> Any:
    for name, _ in tokens:
        if not isinstance(value, dict) or name not in value:
            return _SKIP
        value = value[name]
    return value


def _without(value: dict[str, Any], tokens: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """``value`` minus the key at ``tokens``; parents left empty are removed too."""
    name = tokens[0][0]
    out = dict(value)
    if len(tokens) == 1:
        out.pop(name, None)
        return out
    child = out.get(name)
    if isinstance(child, dict):
        new = _without(child, tokens[1:])
        if new:
            out[name] = new
        else:
            out.pop(name)
    return out


def _with(value: dict[str, Any], tokens: tuple[tuple[str, str], ...], new: Any) -> dict[str, Any]:
    name = tokens[0][0]
    out = dict(value)
    if len(tokens) == 1:
        out[name] = new
    else:
        child = out.get(name)
        out[name] = _with(child if isinstance(child, dict) else {}, tokens[1:], new)
    return out


_UNRESERVED = re.compile(r"[A-Za-z0-9\-_.!~*'()]*\Z")


_ID_CACHE: dict[str, str] = {}


def fast_identity_id(u: str) -> str:
    """:func:`layer_migrate.identity.identity_id`, memoised (user ids repeat across requests)."""
    hit = _ID_CACHE.get(u)
    if hit is None:
        hit = IDENTITY_PREFIX + u if _UNRESERVED.match(u) else identity_id(u)
        if len(_ID_CACHE) >= 65536:
            _ID_CACHE.clear()
        _ID_CACHE[u] = hit
    return hit


def fast_user_id(v: Any) -> Any:
    """:func:`layer_migrate.identity.user_id_of` without ``unquote`` when nothing is escaped."""
    if isinstance(v, str):
        if v.startswith(IDENTITY_PREFIX):
            rest = v[20:]
            return user_id_of(v) if "%" in rest else rest
        return v
    if isinstance(v, dict):
        uid = v.get("user_id")
        if isinstance(uid, str):
            return uid
    return user_id_of(v)


# Actions: (value, ctx, where) -> new value | _SKIP. "where" names the property for errors.
def _act_identity_id(v: Any, ctx: Context, where: str) -> Any:
    if isinstance(v, str):
        if not ctx.options.identity_ids_in_requests:
            return _SKIP
        return fast_identity_id(v)
    raise invalid_property(where.split("[")[0], f"Property '{where}' must be a user id string")


def _act_user_id(v: Any, ctx: Context, where: str) -> Any:
    if isinstance(v, str) and not v.startswith(IDENTITY_PREFIX):
        return _SKIP
    uid = fast_user_id(v)
    return _SKIP if uid is None and not isinstance(v, dict) else uid


def _act_bot_identity(v: Any, ctx: Context, where: str) -> Any:
    if not isinstance(v, str) or not v:
        raise invalid_property(where, f"Property '{where}' must be a non-empty string")
    uid = ctx.options.bots.user_id_for(v)
    if uid is None:
        raise invalid_property(where, f"No bot identity is configured for sender name {v!r}")
    ctx.require(EnsureIdentity(uid, v))
    if ctx.options.provision_bot_as_participant and "conversation" in ctx.params:
        ctx.require(EnsureParticipant(ctx.params["conversation"], uid))  # R22 risk option
    return fast_identity_id(uid)


def _act_bot_name(v: Any, ctx: Context, where: str) -> Any:
    """Inverse of bot_identity: a known bot's identity id → its v1 display name."""
    name = ctx.options.bots.name_for(user_id_of(v))
    return _SKIP if name is None else name


def _overrides_up(v: Any, ctx: Context, where: str) -> Any:
    """R26: map ``{U: {...}}`` or array ``[{"user_id": U, ...}]`` → ``[{"recipient": ID(U), ...}]``."""
    out = []
    if isinstance(v, dict):
        for uid, entry in v.items():
            if not isinstance(entry, dict):
                raise invalid_property(where, f"Property '{where}.{uid}' must be an object")
            out.append({"recipient": fast_identity_id(uid), **entry})
        return out
    if isinstance(v, list):
        for i, entry in enumerate(v):
            if not isinstance(entry, dict):
                raise invalid_property(where, f"Property '{where}[{i}]' must be an object")
            if "recipient" in entry and "user_id" not in entry:
                out.append(entry)
                continue
            uid = entry.get("user_id")
            if not isinstance(uid, str):
                raise invalid_property(f"{where}.user_id", f"Property '{where}[{i}].user_id' must be a user id string")
            rest = {k: x for k, x in entry.items() if k != "user_id"}
            out.append({"recipient": fast_identity_id(uid), **rest})
        return out
    raise invalid_property(where, f"Property '{where}' must be an object or an array")


def _overrides_down(v: Any, ctx: Context, where: str) -> Any:
    if not isinstance(v, list):
        return _SKIP
    out = []
    for entry in v:
        if isinstance(entry, dict) and "recipient" in entry:
            rest = {k: x for k, x in entry.items() if k != "recipient"}
            out.append({"user_id": user_id_of(entry["recipient"]), **rest})
        else:
            out.append(entry)
    return out


def sender_to_v1(s: Any, ctx: Context) -> Any:
    """R24: BasicIdentity → v1 ``{"user_id", "name"}`` (one of them null)."""
    if not isinstance(s, dict):
        return s
    if "id" not in s and ("name" in s or ("user_id" in s and "display_name" not in s)):
        return s  # already v1
    if s.get("id") is None and s.get("user_id") is None:
        return {"user_id": None, "name": s.get("display_name")}
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


def _act_sender_object(v: Any, ctx: Context, where: str) -> Any:
    return sender_to_v1(v, ctx)


def _act_sender_from_v1(v: Any, ctx: Context, where: str) -> Any:
    return sender_from_v1(v, ctx)


def _act_remove(v: Any, ctx: Context, where: str) -> Any:  # handled by the caller
    return v


_UP: dict[str, Action] = {
    "identity_id": _act_identity_id, "user_id": _act_user_id, "bot_identity": _act_bot_identity,
    "recipient_overrides": _overrides_up, "sender_object": _act_sender_object, "remove": _act_remove,
}
#: The inverse of each action, for the other direction (None = not invertible: lossy).
_DOWN: dict[str, Action | None] = {
    "identity_id": _act_user_id, "user_id": lambda v, c, w: identity_id(v) if isinstance(v, str) else _SKIP,
    "bot_identity": _act_bot_name, "recipient_overrides": _overrides_down,
    "sender_object": _act_sender_from_v1, "remove": None,
}


def compile_field_fact(fact: FieldFact, forward: bool) -> Callable[[Any, Context], Any] | None:
    """A ``fn(body, ctx) -> body`` applying ``fact`` (forward = the way the fact is stated).

    Request facts are stated upward (v1 → newer), object facts downward (newer → v1).
    """
    action = _UP[fact.action] if forward else _DOWN[fact.action]
    src = _parse_path(fact.path)
    if fact.action == "remove":
        if not forward:
            return None
        toks = src

        def remove(body: Any, ctx: Context) -> Any:
            if _get(body, toks) is _SKIP:
                return body
            return _without(body, toks)

        return remove
    if action is None:
        return None
    if fact.to is None:
        return _specialised(src, action) or _generic(src, action)
    dst = _parse_path(fact.to)
    frm, to = (src, dst) if forward else (dst, src)
    frm_name = fact.path if forward else fact.to
    if len(frm) == 2 and len(to) == 1 and not any(k for _, k in frm + to):
        (a, _), (b, _) = frm
        (c, _), = to

        def move_ab_c(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            parent = body.get(a)
            if type(parent) is not dict or parent.get(b) is None:
                return body
            new = action(parent[b], ctx, frm_name)
            if new is _SKIP:
                return body
            out = body.copy()
            rest = {k: v for k, v in parent.items() if k != b}
            if rest:
                out[a] = rest
            else:
                del out[a]
            out[c] = new
            return out

        return move_ab_c
    if len(frm) == 1 and len(to) == 2 and not any(k for _, k in frm + to):
        (a, _), = frm
        (b, _), (c, _) = to

        def move_a_bc(body: Any, ctx: Context) -> Any:
            if type(body) is not dict or body.get(a) is None:
                return body
            new = action(body[a], ctx, frm_name)
            if new is _SKIP:
                return body
            out = body.copy()
            del out[a]
            parent = out.get(b)
            out[b] = {**parent, c: new} if type(parent) is dict else {c: new}
            return out

        return move_a_bc

    def move(body: Any, ctx: Context) -> Any:
        if not isinstance(body, dict):
            return body
        v = _get(body, frm)
        if v is _SKIP or v is None:
            return body
        new = action(v, ctx, frm_name)
        if new is _SKIP:
            return body
        return _with(_without(body, frm), to, new)

    return move


def _generic(src: tuple[tuple[str, str], ...], action: Action) -> Callable[[Any, Context], Any]:
    def field(body: Any, ctx: Context) -> Any:
        return _apply(body, src, action, ctx, "")

    return field


def _specialised(src: tuple[tuple[str, str], ...], action: Action) -> Callable[[Any, Context], Any] | None:
    """Hand-rolled versions of :func:`_apply` for one-token paths (the common case, hot path)."""
    if len(src) == 2 and src[0][1] == "" and src[1][1] == "":
        (a, _), (b, _) = src
        where = f"{a}.{b}"

        def two(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            parent = body.get(a)
            if type(parent) is not dict or b not in parent:
                return body
            v = parent[b]
            nv = action(v, ctx, where)
            if nv is _SKIP or nv is v:
                return body
            out = body.copy()
            out[a] = {**parent, b: nv}
            return out

        return two
    if len(src) != 1:
        return None
    name, kind = src[0]
    if kind == "":
        def one(body: Any, ctx: Context) -> Any:
            if type(body) is not dict or name not in body:
                return body
            v = body[name]
            nv = action(v, ctx, name)
            if nv is _SKIP or nv is v:
                return body
            out = body.copy()
            out[name] = nv
            return out

        return one
    if kind == "[]":
        def each(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            items = body.get(name)
            if type(items) is not list:
                return body
            new, changed = [], False
            for i, v in enumerate(items):
                nv = action(v, ctx, f"{name}[{i}]")
                if nv is _SKIP:
                    nv = v
                elif nv is not v:
                    changed = True
                new.append(nv)
            if not changed:
                return body
            out = body.copy()
            out[name] = new
            return out

        return each

    if action is _act_user_id:
        def user_id_keys(body: Any, ctx: Context) -> Any:
            if type(body) is not dict:
                return body
            m = body.get(name)
            if type(m) is not dict or not m:
                return body
            new = {}
            for k, v in m.items():
                if k.startswith(IDENTITY_PREFIX):
                    k = k[20:]
                    if "%" in k:
                        k = unquote(k)
                new[k] = v
            out = body.copy()
            out[name] = new
            return out

        return user_id_keys

    def keys(body: Any, ctx: Context) -> Any:
        if type(body) is not dict:
            return body
        m = body.get(name)
        if type(m) is not dict:
            return body
        new, changed = {}, False
        for k, v in m.items():
            nk = action(k, ctx, name)
            if nk is _SKIP:
                nk = k
            elif nk != k:
                changed = True
            new[nk] = v
        if not changed:
            return body
        out = body.copy()
        out[name] = new
        return out

    return keys


def compile_patch_fact(fact: PatchOpFact, forward: bool) -> Callable[[Any, Context], Any]:
    """R16/R17/R40/R41: rewrite Layer-Patch operations on ``fact.property``."""
    prop = fact.property

    if fact.action == "value_to_id":
        def value_to_id(ops: Any, ctx: Context) -> Any:
            if not isinstance(ops, list):
                return ops
            out, changed = [], False
            for i, op in enumerate(ops):
                if (isinstance(op, dict) and op.get("property") == prop
                        and op.get("operation") in ("add", "remove")):
                    if forward and "value" in op and "id" not in op:
                        v = op["value"]
                        if not isinstance(v, str):
                            raise invalid_property(
                                prop, f"Operation {i} on '{prop}' must carry a user id string as value")
                        if ctx.options.identity_ids_in_requests:
                            op = {"operation": op["operation"], "property": prop, "id": identity_id(v)}
                            changed = True
                    elif not forward and "id" in op and "value" not in op:
                        op = {"operation": op["operation"], "property": prop, "value": user_id_of(op["id"])}
                        changed = True
                out.append(op)
            return out if changed else ops

        return value_to_id

    def set_to_clear_and_add(ops: Any, ctx: Context) -> Any:
        if not isinstance(ops, list) or not forward:
            return ops
        out, changed = [], False
        for op in ops:
            if (isinstance(op, dict) and op.get("property") == prop and op.get("operation") == "set"
                    and isinstance(op.get("value"), list) and op["value"]):
                out.append({"operation": "set", "property": prop, "value": []})
                for i, v in enumerate(op["value"]):
                    if not isinstance(v, str):
                        raise invalid_property(prop, f"Element {i} of the '{prop}' set must be a user id string")
                    if ctx.options.identity_ids_in_requests:
                        out.append({"operation": "add", "property": prop, "id": identity_id(v)})
                    else:
                        out.append({"operation": "add", "property": prop, "value": v})
                changed = True
            else:
                out.append(op)
        return out if changed else ops

    return set_to_clear_and_add


# ---- the engine -------------------------------------------------------------------------------
Step = tuple[str, str]
ReqFn = Callable[[Context], bool | None]
ObjFn = Callable[[Any, Context], Any]


def _steps(source: str, target: str) -> list[Step]:
    si, ti = VERSIONS.index(source), VERSIONS.index(target)
    if si <= ti:
        return [s for s in STEPS if VERSIONS.index(s[0]) >= si and VERSIONS.index(s[1]) <= ti]
    return [s for s in reversed(STEPS) if VERSIONS.index(s[0]) >= ti and VERSIONS.index(s[1]) <= si]


def _body_hook(fn: Callable[[Any, Context], Any]) -> ReqFn:
    def hook(ctx: Context) -> bool:
        new = fn(ctx.body, ctx)
        if new is ctx.body:
            return False
        ctx.body = new
        return True

    return hook


class Engine:
    """A compiled rulebook. Use :func:`default_engine` unless you load extra rule folders."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self.rules = rules if rules is not None else load_rulebook()
        self.by_id = {r.id: r for r in self.rules}
        self._req: dict[tuple[Any, ...], tuple[tuple[str, ReqFn], ...]] = {}
        self._res: dict[tuple[Any, ...], tuple[tuple[str, ReqFn], ...]] = {}
        self._obj: dict[tuple[Any, ...], tuple[tuple[str, ObjFn], ...]] = {}
        self._routes: dict[tuple[str, str], tuple[str | None, dict[str, str]]] = {}
        self._client_versions: dict[tuple[str | None, str | None], str] = {}
        #: rule id → its "lossy" line, reported whenever the rule applied
        self._lossy = {r.id: f"{r.id}: {r.lossy}" for r in self.rules if r.lossy}

    def _report_lossy(self, ctx: Context) -> None:
        lz, lossy = self._lossy, ctx.lossy
        for rid in ctx.applied:
            text = lz.get(rid)
            if text is not None and text not in lossy:
                lossy.append(text)

    def route(self, method: str, path: str, headers: dict[str, str]) -> tuple[str | None, dict[str, str]]:
        """(endpoint name, params) of a request, R06 override included; cached (params read-only)."""
        if method == "POST" and headers.get("x-http-method-override", "").upper() == "PATCH":
            method = "PATCH_OVERRIDE"
        key = (method, path)
        hit = self._routes.get(key)
        if hit is not None:
            return hit
        if method == "PATCH_OVERRIDE":
            m = routes.match("PATCH", path) or routes.match("POST", path)
        else:
            m = routes.match(method, path)
        hit = (m.name, m.params) if m else (None, {})
        if len(self._routes) > 4096:
            self._routes.clear()
        self._routes[key] = hit
        return hit

    # -- compilation --
    def _rules_for(self, source: str, target: str) -> list[tuple[Step, Rule]]:
        out: list[tuple[Step, Rule]] = []
        up = VERSIONS.index(source) <= VERSIONS.index(target)
        steps = _steps(source, target)
        if not steps:
            return out
        everywhere = sorted((r for r in self.rules if r.step == ALL_STEPS),
                            key=lambda r: (r.order, r.id), reverse=not up)
        if up:
            out.extend((steps[0], r) for r in everywhere)
        for step in steps:
            in_step = [r for r in self.rules if r.step == step]
            in_step.sort(key=lambda r: (r.order, r.id), reverse=not up)
            out.extend((step, r) for r in in_step)
        if not up:
            out.extend((steps[-1], r) for r in everywhere)
        return out

    @staticmethod
    def _concerns(rule: Rule, endpoints: frozenset[str], endpoint: str | None) -> bool:
        if "*" in endpoints:
            return True
        return endpoint is not None and endpoint in endpoints

    def request_pipeline(self, endpoint: str | None, source: str, target: str) -> tuple[tuple[str, ReqFn], ...]:
        key = (endpoint, source, target)
        cached = self._req.get(key)
        if cached is not None:
            return cached
        up = VERSIONS.index(source) <= VERSIONS.index(target)
        fns: list[tuple[Any, ReqFn]] = []
        accept: list[tuple[str, ReqFn, Step]] = []
        for step, rule in self._rules_for(source, target):
            for fact in rule.facts:
                fn = self._compile_request_fact(fact, rule, step, endpoint, up)
                if fn is not None:
                    if isinstance(fact, MediaTypeFact):
                        accept.append((rule.id, fn, step))
                    else:
                        fns.append((rule.id, fn))
            if self._concerns(rule, rule.endpoints, endpoint) or not rule.endpoints:
                for hook in rule.hooks["request_up" if up else "request_down"]:
                    if getattr(hook, "accept_only", False):
                        accept.append((rule.id, hook, step))
                    else:
                        fns.append((rule.id, hook))
        if accept:
            fns.insert(0, (None, _fold_accept(accept)))
        result = tuple(fns)
        self._req[key] = result
        return result

    def _compile_request_fact(self, fact: Any, rule: Rule, step: Step, endpoint: str | None,
                              up: bool) -> ReqFn | None:
        if isinstance(fact, FieldFact) and fact.direction == "request":
            if endpoint in fact.endpoints:
                fn = compile_field_fact(fact, forward=up)
                return _body_hook(fn) if fn is not None else None
        elif isinstance(fact, PatchOpFact):
            if endpoint in fact.endpoints:
                return _body_hook(compile_patch_fact(fact, forward=up))
        elif isinstance(fact, MediaTypeFact):
            return _media_type_hook(fact, step, up)
        elif isinstance(fact, RouteFact):
            if up and endpoint == fact.from_endpoint:
                return _route_hook(fact)
        return None

    def response_pipeline(self, endpoint: str | None, source: str, target: str) -> tuple[tuple[str, ReqFn], ...]:
        """Hooks for a response of ``endpoint`` going from ``source`` (server) to ``target``."""
        key = (endpoint, source, target)
        cached = self._res.get(key)
        if cached is not None:
            return cached
        down = VERSIONS.index(source) >= VERSIONS.index(target)
        fns: list[tuple[str, ReqFn]] = []
        for _step, rule in self._rules_for(source, target):
            if down:
                for fact in rule.facts:
                    if isinstance(fact, RouteFact) and fact.status_map and endpoint == fact.from_endpoint:
                        fns.append((rule.id, _status_hook(fact)))
            if self._concerns(rule, rule.endpoints, endpoint) or not rule.endpoints:
                for hook in rule.hooks["response_down" if down else "response_up"]:
                    fns.append((rule.id, hook))
        result = tuple(fns)
        self._res[key] = result
        return result

    def object_pipeline(self, kind: str, source: str, target: str) -> tuple[tuple[str, ObjFn], ...]:
        key = (kind, source, target)
        cached = self._obj.get(key)
        if cached is not None:
            return cached
        down = VERSIONS.index(source) >= VERSIONS.index(target)
        way = "down" if down else "up"
        fns: list[tuple[str, ObjFn]] = []
        for _step, rule in self._rules_for(source, target):
            for k, fact in rule.object_facts:
                if k == kind:
                    fn = compile_field_fact(fact, forward=down)
                    if fn is not None:
                        fns.append((rule.id, fn))
            for hook in rule.object_hooks.get((kind, way), ()):
                fns.append((rule.id, hook))
        result = tuple(fns)
        self._obj[key] = result
        return result

    # -- running --
    def run_object(self, kind: str, obj: Any, ctx: Context, source: str | None = None,
                   target: str | None = None) -> Any:
        """Translate one ``kind`` object with the context's versions (or those given)."""
        key = (kind, source or ctx.source, target or ctx.target)
        applied, lz = ctx.applied, self._lossy
        pipeline = self._obj.get(key)
        if pipeline is None:
            pipeline = self.object_pipeline(*key)
        for rid, fn in pipeline:
            new = fn(obj, ctx)
            if new is not obj:
                obj = new
                if rid not in applied:
                    applied.append(rid)
                    if rid in lz and lz[rid] not in ctx.lossy:
                        ctx.lossy.append(lz[rid])
        return obj

    def run_objects_at(self, endpoint: str | None, body: Any, ctx: Context) -> Any:
        for kind, loc in OBJECT_LOCATIONS.get(endpoint or "", ()):
            if loc == "":
                if isinstance(body, dict):
                    body = self.run_object(kind, body, ctx)
            elif loc == "[]":
                if isinstance(body, list):
                    items = [self.run_object(kind, o, ctx) if isinstance(o, dict) else o for o in body]
                    if any(a is not b for a, b in zip(items, body, strict=False)):
                        body = items
        return body

    def translate_request(self, request: Request, to: str, source: str | None = None,
                          options: Options | None = None) -> Translation:
        if options is None:
            options = _DEFAULT_OPTIONS
        target = _CHECKED.get(to) or _check(to, "to")
        headers = request.headers
        method, path = request.method, request.path
        # hot path: cached route (R06 overrides take the slow path), version and pipeline
        hit = None if method == "POST" and "x-http-method-override" in headers else self._routes.get((method, path))
        endpoint, params = hit if hit is not None else self.route(method, path, headers)
        if source:
            src = _CHECKED.get(source) or _check(source, "from")
        else:
            accept = headers.get("accept")
            src = self._client_versions.get((accept, endpoint)) or self._client_version(accept, endpoint)
        if src == target:
            return Translation(request, [], [], [], src, target, endpoint)
        body = request.body
        if body is None and request.raw and endpoint is not None:
            body = _parse_raw(request.raw, headers.get("content-type"))
        ctx = Context(src, target, options, endpoint, params, self, method, path, dict(headers), body, 200,
                      request)
        applied, lz = ctx.applied, self._lossy
        pipeline = self._req.get((endpoint, src, target))
        if pipeline is None:
            pipeline = self.request_pipeline(endpoint, src, target)
        for rid, fn in pipeline:
            done = fn(ctx)
            if done:
                if rid is None:  # the folded Accept phase reports its own rule ids
                    applied.extend(done)
                elif rid not in applied:
                    applied.append(rid)
                    if rid in lz and lz[rid] not in ctx.lossy:
                        ctx.lossy.append(lz[rid])
        if endpoint is None:
            ctx.lossy.append("unknown endpoint: passed through")
        req = _new_request(ctx.method, ctx.path, ctx.headers, ctx.body)
        if ctx.body is request.body:
            req.raw = request.raw
        return Translation(req, ctx.prerequisites, applied, ctx.lossy, src, target, endpoint)

    def _client_version(self, accept: str | None, endpoint: str | None) -> str:
        v = _version_from_accept(accept, is_webhooks_endpoint(endpoint))
        if len(self._client_versions) > 1024:
            self._client_versions.clear()
        self._client_versions[(accept, endpoint)] = v
        return v

    def translate_response(self, request: Request, response: Response, source: str,
                           to: str | None = None, options: Options | None = None) -> ResponseTranslation:
        if options is None:
            options = _DEFAULT_OPTIONS
        src = _CHECKED.get(source) or _check(source, "from")
        headers = request.headers
        method, path = request.method, request.path
        hit = None if method == "POST" and "x-http-method-override" in headers else self._routes.get((method, path))
        endpoint, params = hit if hit is not None else self.route(method, path, headers)
        if to:
            target = _CHECKED.get(to) or _check(to, "to")
        else:
            accept = headers.get("accept")
            target = self._client_versions.get((accept, endpoint)) or self._client_version(accept, endpoint)
        if src == target:
            return ResponseTranslation(response, [], [], src, target, endpoint)
        ctx = Context(src, target, options, endpoint, params, self, method, path,
                      dict(response.headers), response.body, response.status, request)
        applied, lz = ctx.applied, self._lossy
        pipeline = self._res.get((endpoint, src, target))
        if pipeline is None:
            pipeline = self.response_pipeline(endpoint, src, target)
        for rid, fn in pipeline:
            if fn(ctx) and rid not in applied:
                applied.append(rid)
                if rid in lz and lz[rid] not in ctx.lossy:
                    ctx.lossy.append(lz[rid])
        if 200 <= ctx.status < 300 and ctx.body is not None:
            ctx.body = self.run_objects_at(endpoint, ctx.body, ctx)
        if endpoint is None:
            ctx.lossy.append("unknown endpoint: passed through")
        resp = _new_response(ctx.status, ctx.headers, ctx.body)
        if ctx.body is response.body:
            resp.raw = response.raw
        return ResponseTranslation(resp, applied, ctx.lossy, src, target, endpoint, ctx.prerequisites)

    def translate_payload(self, kind: str, body: Any, source: str, to: str,
                          options: Options | None = None, *, perspective: str = "system") -> PayloadTranslation:
        """Translate one stored object (``kind`` in :data:`OBJECT_KINDS`, or a list of them).

        ``kind="webhook_delivery"`` translates a stored delivery body (its ``event.type`` names the
        event); the payload is then the list of ``{"type", "body"}`` events for the ``to`` version.
        """
        options = options or _DEFAULT_OPTIONS
        src, target = _check(source, "from"), _check(to, "to")
        if kind == "webhook_delivery":
            # a stored delivery: its own event.type says what it is (R50-R52)
            from .webhook_events import translate_webhook as _tw

            event = body.get("event") if isinstance(body, dict) else None
            etype = event.get("type") if isinstance(event, dict) else None
            if not isinstance(etype, str):
                raise invalid_request("A webhook delivery needs event.type", data={"property": "event.type"})
            w = _tw(self, etype, body, src, target, options)
            return PayloadTranslation([{"type": t, "body": b} for t, b in w.events], w.applied,
                                      w.lossy + ([w.reason] if w.reason and not w.lossy else []))
        if kind not in OBJECT_KINDS:
            raise invalid_request(f"Unknown payload kind {kind!r}; expected one of "
                                  f"{', '.join(OBJECT_KINDS)}, webhook_delivery",
                                  data={"property": "kind"})
        ctx = Context(src, target, options)
        ctx.engine = self
        ctx.perspective = perspective
        if isinstance(body, list):
            out = [self.run_object(kind, o, ctx) if isinstance(o, dict) else o for o in body]
        elif isinstance(body, dict):
            out = self.run_object(kind, body, ctx)
        else:
            raise invalid_request(f"A {kind} payload must be a JSON object", data={"property": kind})
        return PayloadTranslation(out, ctx.applied, ctx.lossy, ctx.prerequisites)


def _parse_raw(raw: bytes, content_type: str | None) -> Any:
    """A JSON body that arrived unparsed; malformed JSON is a v1-style ``400 invalid_request``."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct and not ct.endswith("json"):
        return None
    import json

    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request(f"Malformed JSON body: {exc}", data={"property": "body"}) from None


def _fold_accept(hooks: list[tuple[str, ReqFn, Step]]) -> Callable[[Context], tuple[str, ...]]:
    """All Accept-only hooks of a pipeline (R01–R04, R53) as one step, cached per Accept value.

    Their result depends only on the Accept header (the pipeline fixes endpoint and versions), so
    the proxy hot path pays one dict lookup instead of re-parsing the header once per rule.
    """
    cache: dict[str | None, tuple[str | None, tuple[str, ...]]] = {}

    def accept_phase(ctx: Context) -> tuple[str, ...]:
        acc = ctx.headers.get("accept")
        hit = cache.get(acc)
        if hit is None:
            saved = ctx.headers
            ctx.headers = {"accept": acc} if acc is not None else {}
            ids: list[str] = []
            try:
                for rid, fn, step in hooks:
                    ctx.step = step
                    if fn(ctx) and rid not in ids:
                        ids.append(rid)
                hit = (ctx.headers.get("accept"), tuple(ids))
            finally:
                ctx.headers = saved
            if len(cache) > 256:
                cache.clear()
            cache[acc] = hit
        if hit[0] != acc and hit[0] is not None:
            ctx.headers["accept"] = hit[0]
        return hit[1]

    return accept_phase


def _new_request(method: str, path: str, headers: dict[str, str], body: Any) -> Request:
    """A Request from already-normalised parts (skips ``__post_init__``: headers are lower-case)."""
    r = object.__new__(Request)
    r.method, r.path, r.headers, r.body, r.raw = method, path, headers, body, None
    return r


def _new_response(status: int, headers: dict[str, str], body: Any) -> Response:
    r = object.__new__(Response)
    r.status, r.headers, r.body, r.raw = status, headers, body, None
    return r


def _media_type_hook(fact: MediaTypeFact, step: Step, up: bool) -> ReqFn:
    """Generic MediaTypeFact: the Accept version moves across ``step`` (R01–R04, R53)."""
    new_version = step[1] if up else step[0]
    old_versions = fact.from_versions
    media = fact.media_type

    def hook(ctx: Context) -> bool:
        webhooks = is_webhooks_endpoint(ctx.endpoint)
        if (media == WEBHOOKS_MEDIA_TYPE) != webhooks:
            return False
        accept = ctx.headers.get("accept")
        current = version_of(accept, media)
        if current is None and webhooks and media == WEBHOOKS_MEDIA_TYPE:
            current = version_of(accept)  # a webhooks client that sent the platform media type
        if current is None:
            current = ctx.source if not webhooks else "1.0"
        if current == "1.1" and webhooks:
            current = "1.0"
        if current not in old_versions or current == new_version:
            return False
        ctx.headers["accept"] = accept_header(new_version, media)
        return True

    return hook


def _route_hook(fact: RouteFact) -> ReqFn:
    """Generic RouteFact (R38/R39): one v1 call becomes a Layer-Patch call."""
    paths: dict[str, str] = {}  # original path → rebuilt path (R13 encoding), cached
    key_param = fact.user_from.split(".", 1)[1] if fact.user_from.startswith("path.") else None

    def hook(ctx: Context) -> bool:
        if key_param is None:
            body = ctx.body
            if body is None or not isinstance(body, dict):
                raise invalid_request("The request body must be a JSON object", data={"property": "user_id"})
            uid = body.get("user_id")
            if uid is None:
                raise LayerError("missing_property", "Object is missing required member 'user_id'",
                                 data={"property": "user_id"})
            if not isinstance(uid, str) or not uid:
                raise invalid_property("user_id", "Property 'user_id' must be a non-empty user id string")
        else:
            uid = ctx.params.get(key_param)
        new_path = paths.get(ctx.path)
        if new_path is None:
            params = {k: v for k, v in ctx.params.items() if k in ("app", "user")}
            query = ctx.path.split("?", 1)[1] if "?" in ctx.path else ""
            new_path = routes.build_path(fact.to_endpoint, **params) + (f"?{query}" if query else "")
            if len(paths) > 1024:
                paths.clear()
            paths[ctx.path] = new_path
        ctx.path = new_path
        ctx.method = fact.to_method
        ctx.headers["content-type"] = fact.content_type
        ctx.body = [{"operation": fact.body_op, "property": fact.property, "id": fast_identity_id(uid)}]
        ctx.endpoint = fact.to_endpoint
        return True

    return hook


def _status_hook(fact: RouteFact) -> ReqFn:
    v1_status, new_status = fact.status_map  # type: ignore[misc]

    def hook(ctx: Context) -> bool:
        if ctx.status == new_status:
            ctx.status = v1_status
            ctx.body = None
            ctx.headers.pop("content-type", None)
            ctx.headers.pop("content-length", None)
            ctx.note_lossy(fact.rule, f"applied asynchronously upstream ({new_status})")
            return True
        return False

    return hook


# ---- module-level API ---------------------------------------------------------------------------
_DEFAULT_OPTIONS = Options()
_ENGINE: Engine | None = None


def default_engine() -> Engine:
    """The engine over the built-in rulebook (compiled once per process)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def translate_request(request: Request, to: str, source: str | None = None,
                      options: Options | None = None) -> Translation:
    """Upgrade (or downgrade) one request for a server speaking ``to``. See docs/architecture.md."""
    return default_engine().translate_request(request, to, source, options)


def translate_response(request: Request, response: Response, source: str, to: str | None = None,
                       options: Options | None = None) -> ResponseTranslation:
    """Translate a ``source``-version response to the version of the client's ``request``."""
    return default_engine().translate_response(request, response, source, to, options)


def translate_payload(kind: str, body: Any, source: str, to: str,
                      options: Options | None = None, *, perspective: str = "system") -> PayloadTranslation:
    """Translate a stored object (message, conversation, announcement, identity, block, user, webhook)."""
    return default_engine().translate_payload(kind, body, source, to, options, perspective=perspective)


def translate_webhook(event_type: str, body: Any, source: str, to: str = "1.0",
                      options: Options | None = None) -> WebhookTranslation:
    """Translate one webhook delivery for a consumer registered at ``to`` (R50–R52)."""
    return _webhook_events().translate_webhook(default_engine(), event_type, body, source, to,
                                               options or _DEFAULT_OPTIONS)


def _webhook_events() -> Any:
    from . import webhook_events  # imports this module's names lazily: keep the import here

    return webhook_events


# ---- rule examples ---------------------------------------------------------------------------------
def _example_options(ex: Any) -> Options:
    kw = dict(ex.options)
    if "bots" in kw:
        kw["bots"] = BotDirectory(dict(kw["bots"]))
    return Options(**kw)


def _example_path(ex: Any) -> str:
    if ex.path:
        return ex.path
    template = routes.BY_NAME[ex.endpoint].template
    return routes.build_path(ex.endpoint, **{k: k.upper()[0] for k in
                                             re.findall(r"\{(\w+)\}", template)})


def run_example(rule: Rule, ex: Any, engine: Engine | None = None) -> str | None:
    """Run one rule example; None when it holds, else a one-line description of the mismatch."""
    engine = engine or default_engine()
    options = _example_options(ex)
    try:
        if ex.kind == "request":
            method = ex.method or routes.BY_NAME[ex.endpoint].method
            up = ex.way == "up"
            source = ex.source or ("1.1" if up else rule.step[1])
            target = ex.target or (rule.step[1] if up else "1.1")
            headers = dict(ex.headers) if ex.headers is not None else {"accept": accept_header(source)}
            req = Request(method, _example_path(ex), headers, ex.before)
            t = engine.translate_request(req, target, source, options)
            got: Any = t.request.body
            extra = []
            if ex.after_method and t.request.method != ex.after_method:
                extra.append(f"method {t.request.method} != {ex.after_method}")
            if ex.after_path and t.request.path != ex.after_path:
                extra.append(f"path {t.request.path} != {ex.after_path}")
            for k, v in (ex.after_headers or {}).items():
                if t.request.headers.get(k) != v:
                    extra.append(f"header {k}: {t.request.headers.get(k)!r} != {v!r}")
            if rule.facts and rule.id not in t.applied and ex.after != ex.before:
                extra.append(f"rule not in applied {t.applied}")
        elif ex.kind == "response":
            method = ex.method or routes.BY_NAME[ex.endpoint].method
            source = ex.source or rule.step[1]
            target = ex.target or "1.1"
            req = Request(method, _example_path(ex), {"accept": accept_header(target)}, ex.request_body)
            resp = Response(ex.status or 200, ex.headers or {}, ex.before)
            r = engine.translate_response(req, resp, source, target, options)
            got = r.response.body
            extra = []
            if ex.after_status is not None and r.response.status != ex.after_status:
                extra.append(f"status {r.response.status} != {ex.after_status}")
            for k, v in (ex.after_headers or {}).items():
                if r.response.headers.get(k) != v:
                    extra.append(f"header {k}: {r.response.headers.get(k)!r} != {v!r}")
        elif ex.kind == "sign":
            from .webhook_events import sign

            got, extra = sign(ex.before["secret"], ex.before["raw"].encode("utf-8")), []
        elif ex.kind == "delivery":
            from .webhook_events import translate_webhook as _tw

            w = _tw(engine, ex.before["type"], ex.before["body"], ex.source or "3.0", ex.target or "1.0",
                    options)
            got, extra = [{"type": t, "body": b} for t, b in w.events], []
        else:
            source = ex.source or rule.step[1]
            target = ex.target or "1.1"
            p = engine.translate_payload(ex.kind, ex.before, source, target, options)
            got, extra = p.payload, []
    except LayerError as exc:
        if ex.error is not None and exc.id == ex.error:
            return None
        return f"raised LayerError {exc.id}: {exc.message}"
    if ex.error is not None:
        return f"expected LayerError {ex.error}, got {got!r}"
    if got != ex.after:
        extra.insert(0, f"body {got!r} != {ex.after!r}")
    return "; ".join(extra) or None
