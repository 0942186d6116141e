"""Request and Response value types shared by the engine, proxy, adapters and CLI.

Header names are stored lower-case (HTTP header names are case-insensitive and the proxy
hot path should not pay for case-insensitive lookups). Bodies are parsed JSON (``Any``) or
``None``; a non-JSON body travels in ``raw`` untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit


def lower_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """Copy ``headers`` with lower-cased names (last value wins on duplicates).

    Hot path: the proxy's headers arrive as already lower-cased ``str`` pairs, so a plain copy
    is enough when no name has an upper-case letter and every name and value is a string —
    checked in C with one ``join`` per side (``join`` raises on a non-string; ``islower`` is
    False when a letter is upper case, and also when no letter is cased at all, which then
    just takes the general path).
    """
    if not headers:
        return {}
    try:
        if "".join(headers).islower() and "".join(headers.values()) is not None:
            return dict(headers)
    except TypeError:
        pass
    return {str(k).lower(): str(v) for k, v in headers.items()}


@dataclass
class Request:
    """One HTTP request as the Platform API sees it.

    ``path`` may carry a query string (``/apps/x/conversations?page_size=5``); use
    :attr:`route_path` and :attr:`query` to get the parts.
    """

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = lower_headers(self.headers)

    @property
    def route_path(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> str:
        parts = self.path.split("?", 1)
        return parts[1] if len(parts) == 2 else ""

    def copy(self, **changes: Any) -> Request:
        """A shallow copy with ``changes`` applied (headers dict copied)."""
        new = replace(self, **changes)
        if "headers" not in changes:
            new.headers = dict(self.headers)
        return new

    def to_json(self) -> dict[str, Any]:
        """The exchange shape used by the CLI (``method, path, headers, body``)."""
        return {"method": self.method, "path": self.path, "headers": dict(self.headers), "body": self.body}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Request:
        path = data.get("path") or data.get("url") or "/"
        if "://" in path:  # a full URL: keep only path and query, never the host
            parts = urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        return cls(method=str(data.get("method", "GET")), path=path,
                   headers=data.get("headers") or {}, body=data.get("body"))


@dataclass
class Response:
    """One HTTP response: status, lower-cased headers, parsed JSON body or ``None``."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None

    def __post_init__(self) -> None:
        self.headers = lower_headers(self.headers)

    def copy(self, **changes: Any) -> Response:
        new = replace(self, **changes)
        if "headers" not in changes:
            new.headers = dict(self.headers)
        return new

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "headers": dict(self.headers), "body": self.body}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Response:
        return cls(status=int(data.get("status", 200)), headers=data.get("headers") or {},
                   body=data.get("body"))


def request_of(method: str, path: str, headers: dict[str, str], body: Any = None,
               raw: bytes | None = None) -> Request:
    """A :class:`Request` over ``headers`` as given — their names must be lower-case ``str``
    already (an ASGI scope decoded by the proxy, a parser's output). Hot paths: no copy of the
    headers and no per-name check, which ``Request(...)`` pays for every field."""
    r = object.__new__(Request)
    r.method = method if method.isupper() else method.upper()
    r.path, r.headers, r.body, r.raw = path, headers, body, raw
    return r


def response_of(status: int, headers: dict[str, str], body: Any = None,
                raw: bytes | None = None) -> Response:
    """A :class:`Response` over ``headers`` as given (lower-case ``str`` names): see
    :func:`request_of`."""
    r = object.__new__(Response)
    r.status, r.headers, r.body, r.raw = status, headers, body, raw
    return r
