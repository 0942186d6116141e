"""The Layer error catalogue (spec §1.8) and the exception that carries one.

Every refusal in this toolkit — a translation that cannot be done, an emulator rejection, a
proxy failure — is a Layer-format error object (``id``, ``code``, ``message``, ``url``,
``data``), because that is what a v1 client already knows how to read.
"""

from __future__ import annotations

from typing import Any

DOCS_URL = "https://developer.layer.com/docs/platform"

#: id → (code, HTTP status), spec §1.8.
CATALOGUE: dict[str, tuple[int, int]] = {
    "service_unavailable": (1, 503),
    "invalid_app_id": (2, 403),
    "invalid_request_id": (3, 400),
    "authentication_required": (4, 401),
    "app_suspended": (5, 403),
    "user_suspended": (6, 403),
    "rate_limit_exceeded": (7, 429),
    "request_timeout": (8, 408),
    "invalid_operation": (9, 422),
    "invalid_request": (10, 400),
    "internal_server_error": (100, 500),
    "access_denied": (101, 403),
    "not_found": (102, 404),
    "object_deleted": (103, 410),
    "missing_property": (104, 422),
    "invalid_property": (105, 422),
    "invalid_endpoint": (106, 404),
    "invalid_header": (107, 406),
    "conflict": (108, 409),
    "method_not_allowed": (109, 405),
    "participant_blocked": (110, 422),
    "id_in_use": (111, 409),
}


class LayerError(Exception):
    """An error that renders as a Layer error object.

    ``status`` defaults to the catalogue's HTTP status for ``id``; ``headers`` carries extras
    such as ``Allow`` for 405.
    """

    def __init__(
        self,
        error_id: str,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        status: int | None = None,
        url: str = DOCS_URL,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        code, default_status = CATALOGUE.get(error_id, (10, 400))
        self.id = error_id
        self.code = code
        self.message = message
        self.data = data
        self.status = status if status is not None else default_status
        self.url = url
        self.headers = headers or {}

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "code": self.code, "message": self.message, "url": self.url}
        if self.data is not None:
            body["data"] = self.data
        return body

    def __repr__(self) -> str:
        return f"LayerError({self.id!r}, {self.message!r}, status={self.status})"


def missing_property(prop: str, what: str = "Object") -> LayerError:
    return LayerError("missing_property", f"{what} is missing required member '{prop}'",
                      data={"property": prop})


def invalid_property(prop: str, message: str | None = None) -> LayerError:
    return LayerError("invalid_property", message or f"Property '{prop}' has an invalid value",
                      data={"property": prop})


def invalid_request(message: str, data: dict[str, Any] | None = None) -> LayerError:
    return LayerError("invalid_request", message, data=data)


def invalid_header(header: str = "Accept", message: str | None = None) -> LayerError:
    if message is None:
        message = ("Invalid Accept header; must be of form application/vnd.layer+json; version=x.y"
                   if header.lower() == "accept" else f"Invalid {header} header")
    return LayerError("invalid_header", message, data={"header": header},
                      url=f"{DOCS_URL}#overview")


def method_not_allowed(allow: list[str] | tuple[str, ...]) -> LayerError:
    allowed = ", ".join(allow)
    return LayerError("method_not_allowed", f"Method not allowed; allowed methods: {allowed}",
                      headers={"allow": allowed})


def not_found(message: str = "The requested resource could not be found.") -> LayerError:
    return LayerError("not_found", message)


def invalid_endpoint(path: str) -> LayerError:
    return LayerError("invalid_endpoint", f"No such endpoint: {path}", data={"path": path})


def is_error_body(body: Any) -> bool:
    """True if ``body`` looks like a Layer error object."""
    return isinstance(body, dict) and isinstance(body.get("id"), str) and isinstance(body.get("code"), int)
