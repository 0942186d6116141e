"""The module-level translation functions, over one engine per process (the built-in rulebook).

Pure (no network, no clock): ``(request, options) → request + prerequisites`` and
``(original request, response, options) → response``. Callers that load extra rule folders build
their own :class:`~layer_migrate.engine.Engine` and call the same methods on it.
"""

from __future__ import annotations

from typing import Any

from ..exchange import Request, Response
from ..options import Options
from ..results import PayloadTranslation, ResponseTranslation, Translation, WebhookTranslation
from .chain import Engine

__all__ = ["default_engine", "translate_payload", "translate_request", "translate_response",
           "translate_webhook"]

_ENGINE: Engine | None = None


def default_engine() -> Engine:
    """The engine over the built-in rulebook (compiled once per process)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def translate_request(request: Request, to: str, source: str | None = None,
                      options: Options | None = None) -> Translation:
    """Upgrade (or downgrade) one request for a server speaking ``to`` (``source`` = None: the
    client's version from its Accept header, R04)."""
    return default_engine().translate_request(request, to, source, options)


def translate_response(request: Request, response: Response, source: str, to: str | None = None,
                       options: Options | None = None) -> ResponseTranslation:
    """Translate a ``source``-version response to the version of the client's ``request``."""
    return default_engine().translate_response(request, response, source, to, options)


def translate_payload(kind: str, body: Any, source: str, to: str, options: Options | None = None,
                      *, perspective: str = "system") -> PayloadTranslation:
    """Translate a stored object (message, conversation, announcement, identity, block, user,
    webhook, or a ``webhook_delivery``)."""
    return default_engine().translate_payload(kind, body, source, to, options, perspective=perspective)


def translate_webhook(event_type: str, body: Any, source: str, to: str = "1.0",
                      options: Options | None = None) -> WebhookTranslation:
    """Translate one webhook delivery for a consumer registered at ``to`` (R50–R52)."""
    return default_engine().translate_webhook(event_type, body, source, to, options)
