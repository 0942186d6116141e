"""The Platform API endpoint table: method + path template → endpoint name (spec §13a).

Rules select the requests and responses they touch by endpoint name, never by regex of
their own, so one table decides what a path means for the engine, the proxy and the codemod.
Path parameters are returned percent-decoded (``namespace%2F12345`` → ``namespace/12345``);
R13 re-encodes them when a path is rebuilt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    template: str
    #: versions that document the endpoint ("1" = 1.0 and 1.1).
    versions: tuple[str, ...] = ("1.0", "1.1", "2.0", "3.0")


_V1 = ("1.0", "1.1")
_V2P = ("2.0", "3.0")
_V3 = ("3.0",)

#: (name, method, template, versions). ``{x}`` matches one path segment.
ENDPOINTS: tuple[Endpoint, ...] = tuple(
    Endpoint(*row)
    for row in (
        ("conversations.create", "POST", "/apps/{app}/conversations"),
        ("conversations.get", "GET", "/apps/{app}/conversations/{conversation}"),
        ("conversations.patch", "PATCH", "/apps/{app}/conversations/{conversation}"),
        ("conversations.delete", "DELETE", "/apps/{app}/conversations/{conversation}"),
        ("messages.send", "POST", "/apps/{app}/conversations/{conversation}/messages"),
        ("messages.list", "GET", "/apps/{app}/conversations/{conversation}/messages"),
        ("messages.get", "GET", "/apps/{app}/conversations/{conversation}/messages/{message}"),
        ("messages.delete", "DELETE", "/apps/{app}/conversations/{conversation}/messages/{message}"),
        ("parts.list", "GET", "/apps/{app}/conversations/{conversation}/messages/{message}/parts", _V3),
        ("parts.create", "POST", "/apps/{app}/conversations/{conversation}/messages/{message}/parts", _V3),
        ("parts.replace_all", "PUT", "/apps/{app}/conversations/{conversation}/messages/{message}/parts", _V3),
        ("parts.get", "GET", "/apps/{app}/conversations/{conversation}/messages/{message}/parts/{part}", _V3),
        ("parts.update", "PUT", "/apps/{app}/conversations/{conversation}/messages/{message}/parts/{part}", _V3),
        ("parts.delete", "DELETE", "/apps/{app}/conversations/{conversation}/messages/{message}/parts/{part}", _V3),
        ("content.create", "POST", "/apps/{app}/conversations/{conversation}/content"),
        ("content.get", "GET", "/apps/{app}/conversations/{conversation}/content/{content}"),
        ("announcements.send", "POST", "/apps/{app}/announcements"),
        ("notifications.send", "POST", "/apps/{app}/notifications"),
        ("user.conversations.list", "GET", "/apps/{app}/users/{user}/conversations"),
        ("user.conversations.get", "GET", "/apps/{app}/users/{user}/conversations/{conversation}"),
        ("user.conversations.mark_all_read", "POST", "/apps/{app}/users/{user}/conversations/{conversation}/mark_all_read", _V3),
        ("user.messages.list", "GET", "/apps/{app}/users/{user}/conversations/{conversation}/messages"),
        ("user.messages.get", "GET", "/apps/{app}/users/{user}/messages/{message}"),
        ("user.receipts.create", "POST", "/apps/{app}/users/{user}/messages/{message}/receipts"),
        ("blocks.list", "GET", "/apps/{app}/users/{user}/blocks"),
        ("blocks.create", "POST", "/apps/{app}/users/{user}/blocks", _V1),
        ("blocks.delete", "DELETE", "/apps/{app}/users/{user}/blocks/{blocked}", _V1),
        ("users.get", "GET", "/apps/{app}/users/{user}"),
        ("users.patch", "PATCH", "/apps/{app}/users/{user}"),
        ("identity.create", "POST", "/apps/{app}/users/{user}/identity"),
        ("identity.replace", "PUT", "/apps/{app}/users/{user}/identity"),
        ("identity.patch", "PATCH", "/apps/{app}/users/{user}/identity"),
        ("identity.get", "GET", "/apps/{app}/users/{user}/identity"),
        ("identity.delete", "DELETE", "/apps/{app}/users/{user}/identity"),
        ("badge.put", "PUT", "/apps/{app}/users/{user}/badge"),
        ("badge.get", "GET", "/apps/{app}/users/{user}/badge"),
        ("sessions.delete", "DELETE", "/apps/{app}/users/{user}/sessions"),
        ("following.list", "GET", "/apps/{app}/users/{user}/following", _V2P),
        ("following.batch", "POST", "/apps/{app}/users/{user}/following", _V2P),
        ("following.get", "GET", "/apps/{app}/users/{user}/following/{followed}", _V2P),
        ("following.put", "PUT", "/apps/{app}/users/{user}/following/{followed}", _V2P),
        ("following.delete", "DELETE", "/apps/{app}/users/{user}/following/{followed}", _V2P),
        ("following.identities", "GET", "/apps/{app}/users/{user}/identities", _V2P),
        ("app.patch", "PATCH", "/apps/{app}"),
        ("exports.create", "POST", "/apps/{app}/exports"),
        ("exports.list", "GET", "/apps/{app}/exports"),
        ("exports.delete", "DELETE", "/apps/{app}/exports/{export}"),
        ("exports.status", "GET", "/apps/{app}/exports/{export}/status"),
        ("export_security.put", "PUT", "/apps/{app}/export_security"),
        ("export_security.get", "GET", "/apps/{app}/export_security"),
        ("export_schedule.put", "PUT", "/apps/{app}/export_schedule"),
        ("export_schedule.get", "GET", "/apps/{app}/export_schedule"),
        ("webhooks.create", "POST", "/apps/{app}/webhooks"),
        ("webhooks.list", "GET", "/apps/{app}/webhooks"),
        ("webhooks.get", "GET", "/apps/{app}/webhooks/{webhook}"),
        ("webhooks.delete", "DELETE", "/apps/{app}/webhooks/{webhook}"),
        ("webhooks.activate", "POST", "/apps/{app}/webhooks/{webhook}/activate"),
        ("webhooks.deactivate", "POST", "/apps/{app}/webhooks/{webhook}/deactivate"),
    )
)

BY_NAME: dict[str, Endpoint] = {e.name: e for e in ENDPOINTS}


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}/?$")


_COMPILED: tuple[tuple[Endpoint, re.Pattern[str]], ...] = tuple((e, _compile(e.template)) for e in ENDPOINTS)


@dataclass(frozen=True)
class Match:
    endpoint: Endpoint
    params: dict[str, str]

    @property
    def name(self) -> str:
        return self.endpoint.name


@lru_cache(maxsize=4096)
def _match_path(path: str) -> tuple[tuple[Endpoint, tuple[tuple[str, str], ...]], ...]:
    found = []
    for endpoint, rx in _COMPILED:
        m = rx.match(path)
        if m:
            found.append((endpoint, tuple((k, unquote(v)) for k, v in m.groupdict().items())))
    return tuple(found)


def match(method: str, path: str) -> Match | None:
    """The endpoint for ``method`` + ``path`` (query string ignored), or None."""
    path = path.split("?", 1)[0]
    method = method.upper()
    for endpoint, params in _match_path(path):
        if endpoint.method == method:
            return Match(endpoint, dict(params))
    return None


def allowed_methods(path: str) -> list[str]:
    """Methods some endpoint accepts on ``path`` (for a 405 ``Allow`` header)."""
    return sorted({e.method for e, _ in _match_path(path.split("?", 1)[0])})


def build_path(name: str, **params: str) -> str:
    """The path of endpoint ``name`` with ``params`` percent-encoded as path segments (R13)."""
    from .identity import path_user_id

    template = BY_NAME[name].template
    return re.sub(r"\{(\w+)\}", lambda m: path_user_id(params[m.group(1)]), template)
