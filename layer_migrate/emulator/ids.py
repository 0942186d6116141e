"""The emulator's own identifiers: identity ids, Layer URIs, UUIDs and timestamps.

Deliberately *not* imported from ``layer_migrate.identity``: the emulator is an independent
oracle (design.md), so an encoding bug in the translator's ``identity_id`` shows up as a
differential-test failure instead of being agreed with.

Identity ids follow spec §3.1: ``"layer:///identities/" + encodeURIComponent(user_id)``; decoding
is plain percent-decoding, so the Web XDK's stricter encoding (``! ' ( ) ~`` escaped) names the
same user.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from urllib.parse import quote, unquote

IDENTITY_PREFIX = "layer:///identities/"
#: JavaScript encodeURIComponent leaves these alone besides letters and digits.
_URI_COMPONENT_SAFE = "-_.!~*'()"
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def encode_component(value: str) -> str:
    """encodeURIComponent (UTF-8 percent-encoding); also used for user ids in URL paths (R13)."""
    return quote(value, safe=_URI_COMPONENT_SAFE)


def identity_uri(user_id: str) -> str:
    """``layer:///identities/<encoded user id>`` (spec §3.1)."""
    return IDENTITY_PREFIX + encode_component(user_id)


def user_of_identity_uri(value: str) -> str | None:
    """The user id named by an identity id, or None if ``value`` is not one."""
    if not value.startswith(IDENTITY_PREFIX):
        return None
    uid = unquote(value[len(IDENTITY_PREFIX):])
    return uid or None


def new_uuid() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    return bool(_UUID_RE.match(value))


def uuid_from(value: str, kind: str) -> str | None:
    """A bare UUID from a path segment or a ``from_id``: bare UUID or ``layer:///<kind>/<uuid>``."""
    prefix = f"layer:///{kind}/"
    if value.startswith(prefix):
        value = value[len(prefix):]
    return value.lower() if is_uuid(value) else None


def now() -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (the form of the spec's webhook examples)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
