"""layer-migrate: move Layer Platform API integrations from 1.x to 2.0/3.0.

Public API (pure, no I/O)::

    from layer_migrate import translate_request, translate_response, translate_payload, translate_webhook
    from layer_migrate import Request, Response, LayerError, Options, BotDirectory, detect_version

In-process faces of the proxy (need the proxy's dependencies)::

    from layer_migrate import MigratingTransport, AsyncMigratingTransport, MigratingAdapter

See ``layer-migrate rules`` for every change the engine applies. Names load lazily: importing
this package loads no rules and no HTTP library until a name that needs them is used.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .errors import LayerError
from .exchange import Request, Response
from .identity import BotDirectory, identity_id, user_id_of

if TYPE_CHECKING:  # what the lazy names below are, for type checkers and IDEs
    from .engine import (
        Engine,
        EnsureIdentity,
        EnsureParticipant,
        PayloadTranslation,
        Prerequisite,
        ResponseTranslation,
        Translation,
        WebhookTranslation,
        default_engine,
        detect_version,
        translate_payload,
        translate_request,
        translate_response,
        translate_webhook,
    )
    from .inprocess import Installation, InstallError, install, uninstall
    from .options import Options
    from .proxy import AsyncMigratingTransport, MigratingAdapter, MigratingTransport

try:
    __version__: str = version("layer-migrate")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

#: lazily loaded name → the module that defines it
_LAZY: dict[str, str] = {
    "Options": ".options",
    "Prerequisite": ".prerequisites",
    "EnsureIdentity": ".prerequisites",
    "EnsureParticipant": ".prerequisites",
    "Translation": ".results",
    "ResponseTranslation": ".results",
    "PayloadTranslation": ".results",
    "WebhookTranslation": ".results",
    "Engine": ".engine",
    "default_engine": ".engine",
    "detect_version": ".engine",
    "translate_request": ".engine",
    "translate_response": ".engine",
    "translate_payload": ".engine",
    "translate_webhook": ".engine",
    "MigratingTransport": ".proxy",
    "AsyncMigratingTransport": ".proxy",
    "MigratingAdapter": ".proxy",
    # no-code-change migration (issue 10), imported only when used
    "install": ".inprocess",
    "uninstall": ".inprocess",
    "Installation": ".inprocess",
    "InstallError": ".inprocess",
}

__all__ = [
    "AsyncMigratingTransport", "BotDirectory", "Engine", "EnsureIdentity", "EnsureParticipant",
    "InstallError", "Installation", "LayerError", "MigratingAdapter", "MigratingTransport", "Options", "PayloadTranslation",
    "Prerequisite", "Request", "Response", "ResponseTranslation", "Translation",
    "WebhookTranslation", "__version__", "default_engine", "detect_version", "identity_id",
    "install", "translate_payload", "translate_request", "translate_response",
    "translate_webhook", "uninstall", "user_id_of",
]


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'layer_migrate' has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
