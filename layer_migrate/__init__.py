"""layer-migrate: move Layer Platform API integrations from 1.x to 2.0/3.0.

Public API (pure, no I/O)::

    from layer_migrate import translate_request, translate_response, translate_payload, translate_webhook
    from layer_migrate import Request, Response, LayerError, Options, BotDirectory, detect_version

See ``layer-migrate rules`` for every change the engine applies.
"""

from __future__ import annotations

from typing import Any

from .errors import LayerError
from .exchange import Request, Response
from .identity import BotDirectory, identity_id, user_id_of

__all__ = [
    "BotDirectory",
    "Installation",
    "LayerError",
    "Options",
    "Request",
    "Response",
    "detect_version",
    "install",
    "identity_id",
    "translate_payload",
    "translate_request",
    "translate_response",
    "translate_webhook",
    "uninstall",
    "user_id_of",
]

_ENGINE_NAMES = {"translate_request", "translate_response", "translate_payload", "Options",
                 "Translation", "Prerequisite", "Engine", "default_engine",
                 "translate_webhook", "detect_version", "EnsureIdentity", "EnsureParticipant",
                 "ResponseTranslation", "PayloadTranslation", "WebhookTranslation"}
#: no-code-change migration (issue 10), imported only when used
_INPROCESS_NAMES = {"install", "uninstall", "Installation", "InstallError"}


def __getattr__(name: str) -> Any:
    # The engine loads the rulebook; defer that until someone actually translates.
    if name in _ENGINE_NAMES:
        from . import engine

        return getattr(engine, name)
    if name in _INPROCESS_NAMES:
        from . import inprocess

        return getattr(inprocess, name)
    raise AttributeError(f"module 'layer_migrate' has no attribute {name!r}")
