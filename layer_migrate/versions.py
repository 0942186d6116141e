"""Platform API versions and the media types that select them.

The Layer Platform API picks its version only from the Accept header
(``application/vnd.layer+json; version=X.Y``, spec §1.2). Every product in this toolkit needs
to read and write that header the same tolerant way, so the parsing lives here once.
"""

from __future__ import annotations

import re
from typing import Final

#: Every Platform API version, oldest first. Strings compare correctly by position, not text.
VERSIONS: Final[tuple[str, ...]] = ("1.0", "1.1", "2.0", "3.0")

#: Version steps in the order rules are chained for an upgrade (spec §14 legend).
STEPS: Final[tuple[tuple[str, str], ...]] = (("1.0", "1.1"), ("1.1", "2.0"), ("2.0", "3.0"))

PLATFORM_MEDIA_TYPE: Final = "application/vnd.layer+json"
WEBHOOKS_MEDIA_TYPE: Final = "application/vnd.layer.webhooks+json"
PATCH_MEDIA_TYPE: Final = "application/vnd.layer-patch+json"
#: Spelling from the blocking page prose (spec §1.3, DOC-BUG); accepted on input only.
PATCH_MEDIA_TYPE_TYPO: Final = "application/vnd.layer-patch.json"
WEBHOOK_VERSIONS: Final[tuple[str, ...]] = ("1.0", "2.0", "3.0")

_VERSION_PARAM = re.compile(r";\s*version\s*=\s*\"?([0-9]+(?:\.[0-9]+)?)\"?", re.IGNORECASE)


class UnknownVersion(ValueError):
    """A version string that is not one of :data:`VERSIONS`."""


def check_version(version: str) -> str:
    """Return ``version`` normalised (``"2"`` → ``"2.0"``) or raise :class:`UnknownVersion`."""
    v = str(version).strip()
    if re.fullmatch(r"[0-9]+", v):
        v += ".0"
    if v not in VERSIONS:
        raise UnknownVersion(f"unknown Platform API version {version!r}; expected one of {', '.join(VERSIONS)}")
    return v


def index(version: str) -> int:
    """Position of ``version`` in :data:`VERSIONS` (for ordering comparisons)."""
    return VERSIONS.index(check_version(version))


def is_v1(version: str) -> bool:
    """True for 1.0 and 1.1, the versions whose bodies are identical (spec §1.9)."""
    return version in ("1.0", "1.1")


def media_type_of(value: str | None) -> str:
    """The bare media type of a header value, lower-cased, without parameters."""
    if not value:
        return ""
    return value.split(";", 1)[0].strip().lower()


def version_of(value: str | None, media_type: str = PLATFORM_MEDIA_TYPE) -> str | None:
    """The ``version`` parameter of an Accept/Content-Type value for ``media_type``.

    Tolerates spacing, quoting and extra parameters such as ``charset`` (snap-swap sends one,
    spec §1.2). Returns None when the media type differs or no version parameter is present;
    the version is returned as written (validate it with :func:`check_version`).
    """
    if not value:
        return None
    for candidate in value.split(","):
        if media_type_of(candidate) != media_type:
            continue
        m = _VERSION_PARAM.search(candidate)
        if m:
            v = m.group(1)
            return v + ".0" if "." not in v else v
    return None


def with_version(value: str, version: str, media_type: str = PLATFORM_MEDIA_TYPE) -> str:
    """``value`` (one Content-Type) with its ``version`` parameter set to ``version``.

    Other parameters (``charset``) and their order are kept; a value of another media type, or
    one without a version parameter, is returned unchanged.
    """
    if media_type_of(value) != media_type:
        return value
    return _VERSION_PARAM.sub(f"; version={version}", value, count=1)


def accept_header(version: str, media_type: str = PLATFORM_MEDIA_TYPE) -> str:
    """The canonical header value, with the space after ``;`` that every DOC example uses."""
    return f"{media_type}; version={version}"


def steps_between(source: str, target: str) -> list[tuple[str, str]]:
    """The version steps crossed going from ``source`` to ``target`` (upgrade order).

    For a downgrade (source newer than target) the same steps are returned in upgrade order;
    callers reverse them.
    """
    lo, hi = sorted((index(source), index(target)))
    return [s for s in STEPS if VERSIONS.index(s[0]) >= lo and VERSIONS.index(s[1]) <= hi]
