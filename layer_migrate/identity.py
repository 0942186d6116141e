"""User ids ⇄ Layer Identity ids (spec §3.1, rules R11/R12) and the bot directory (R22/R35).

``ID(u) = "layer:///identities/" + encodeURIComponent(u)``. JavaScript's encodeURIComponent
leaves ``A-Z a-z 0-9 - _ . ! ~ * ' ( )`` alone; the Web XDK's stricter encoder also escapes
``! ' ( ) ~``. Decoding is plain percent-decoding, so both encodings of one user id compare equal
after :func:`user_id_of`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

IDENTITY_PREFIX = "layer:///identities/"
_PREFIX_LEN = len(IDENTITY_PREFIX)
#: encodeURIComponent's unreserved set beyond ASCII alphanumerics (the one statement of it).
URI_COMPONENT_SAFE = "-_.!~*'()"
_JS_SAFE = URI_COMPONENT_SAFE
#: A string encodeURIComponent leaves unchanged (most user ids): no ``quote`` call needed.
_UNRESERVED = re.compile(r"[A-Za-z0-9" + re.escape(URI_COMPONENT_SAFE) + r"]*\Z")


def encode_user_id(user_id: str) -> str:
    """encodeURIComponent semantics, byte for byte (UTF-8 percent-encoding)."""
    if _UNRESERVED.match(user_id):
        return user_id
    return quote(user_id, safe=_JS_SAFE)


def identity_id(user_id: str) -> str:
    """The identity id of ``user_id`` (R11). An id already in identity form is returned as is.

    Never double-prefixing matters: half-migrated code and mixed clients send both forms.
    """
    if user_id.startswith(IDENTITY_PREFIX):
        return user_id
    return IDENTITY_PREFIX + encode_user_id(user_id)


def is_identity_id(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(IDENTITY_PREFIX)


def user_id_of(value: Any) -> str | None:
    """UID() of spec §14: a BasicIdentity's ``user_id``, else the decoded suffix of its ``id``.

    Accepts a BasicIdentity dict, an identity id string, or a bare user id string (returned
    unchanged, so downgrading is idempotent). Returns None for a BasicIdentity with neither
    (a message sent with a v1 ``sender.name``).
    """
    if isinstance(value, str):
        return unquote(value[_PREFIX_LEN:]) if value.startswith(IDENTITY_PREFIX) else value
    if isinstance(value, dict):
        uid = value.get("user_id")
        if isinstance(uid, str):
            return uid
        ident = value.get("id")
        if isinstance(ident, str) and ident.startswith(IDENTITY_PREFIX):
            return unquote(ident[_PREFIX_LEN:])
    return None


def path_user_id(user_id: str) -> str:
    """A user id as a URL path segment (R13): plain user id, percent-encoded (``a/b`` → ``a%2Fb``)."""
    return encode_user_id(user_id)


_SLUG = re.compile(r"[^a-z0-9]+")


def default_bot_user_id(name: str) -> str:
    """Deterministic bot user id for a v1 ``sender.name`` when no mapping is configured.

    ``"support"`` → ``"bot-support"``; ``"Support Bot"`` → ``"bot-support-bot-<hash>"``. Deterministic so every proxy worker, the codemod
    and a library user agree without sharing state; names that slug to nothing or collide after
    slugging are disambiguated by a short stable hash of the exact name.
    """
    import hashlib

    slug = _SLUG.sub("-", name.lower()).strip("-")[:48]
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    if not slug:
        return f"bot-{digest}"
    if slug != name:  # lossy slug: keep names like "Support", "support" and "support!" apart
        return f"bot-{slug}-{digest}"
    return f"bot-{slug}"


@dataclass
class BotDirectory:
    """Bot display name ⇄ bot user id (``BOT`` and ``NAME`` of spec §14.9).

    Built from an explicit mapping (``--bot-map FILE``: JSON ``{"name": "user_id", ...}``) with
    :func:`default_bot_user_id` for names not listed (unless ``strict``).
    """

    mapping: dict[str, str] = field(default_factory=dict)
    strict: bool = False

    def __post_init__(self) -> None:
        self._names: dict[str, str] = {uid: name for name, uid in self.mapping.items()}

    def user_id_for(self, name: str) -> str | None:
        uid = self.mapping.get(name)
        if uid is None and not self.strict:
            uid = default_bot_user_id(name)
            self.mapping[name] = uid
            self._names[uid] = name
        return uid

    def name_for(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        return self._names.get(user_id)

    def is_bot(self, user_id: str | None) -> bool:
        return user_id is not None and user_id in self._names

    @classmethod
    def load(cls, path: str | Path, strict: bool = False) -> BotDirectory:
        """Load a bot map file. Raises ValueError with ``file: reason`` on bad content."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{p}: cannot read bot map: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p}:{exc.lineno}: bot map is not valid JSON: {exc.msg}") from None
        if isinstance(data, dict) and isinstance(data.get("bots"), dict):
            data = data["bots"]
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
        ):
            raise ValueError(f'{p}:1: bot map must be a JSON object {{"display name": "bot user id"}}')
        return cls(mapping=dict(data), strict=strict)
