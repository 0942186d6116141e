"""Which version a request speaks: the Accept header (§1.2, R04), and version arguments checked.

Shared by the engine's entry points and the proxy (``detect_version``). The parse of one Accept
value is memoised: clients send the same few values, and the proxy asks once per request.
"""

from __future__ import annotations

from .. import routes
from ..errors import LayerError, invalid_header
from ..exchange import Request
from ..versions import (
    PLATFORM_MEDIA_TYPE,
    VERSIONS,
    WEBHOOKS_MEDIA_TYPE,
    UnknownVersion,
    check_version,
    version_of,
)
from .cache import Memo
from .interpret import is_webhooks_endpoint

__all__ = ["checked_version", "detect_version", "version_from_accept"]

#: Already-normal version strings → themselves (the hot path's check is one dict lookup).
CHECKED: dict[object, str] = {v: v for v in VERSIONS}


def checked_version(version: str, what: str = "version") -> str:
    """``version`` normalised (``"2"`` → ``"2.0"``), or a Layer error naming the argument."""
    hit = CHECKED.get(version)
    if hit is not None:
        return hit
    try:
        return check_version(version)
    except (UnknownVersion, TypeError) as exc:
        raise LayerError("invalid_header" if what == "accept" else "invalid_request", str(exc),
                         data={"property": what}) from None


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
    return version_from_accept(accept, is_webhooks_endpoint(endpoint))


_FROM_ACCEPT: Memo[tuple[str | None, bool], str] = Memo(512)


def version_from_accept(accept: str | None, webhooks: bool) -> str:
    """The client version an Accept value selects (memoised; raises ``406 invalid_header``)."""
    hit = _FROM_ACCEPT.get((accept, webhooks))
    if hit is None:
        hit = _FROM_ACCEPT.put((accept, webhooks), _parse_accept(accept, webhooks))
    return hit


def _parse_accept(accept: str | None, webhooks: bool) -> str:
    if webhooks:
        v = version_of(accept, WEBHOOKS_MEDIA_TYPE) or version_of(accept)
        if v is None or v == "1.1":
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
