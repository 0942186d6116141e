"""The translation engine: chains the rulebook between any two Platform API versions.

* :mod:`.chain` — :class:`Engine`: compiles pipelines per (endpoint, versions, direction), runs them;
* :mod:`.interpret` — declared facts → the callables pipelines run (field/patch/route/media type);
* :mod:`.negotiation` — the client's version from Accept (:func:`detect_version`);
* :mod:`.deliveries` — webhook deliveries for older consumers, driven by the webhook rules' facts;
* :mod:`.examples` — :func:`run_example`, the rule examples run against an engine;
* :mod:`.api` — the module-level ``translate_*`` functions over :func:`default_engine`;
* :mod:`.cache` — the one bounded-memo policy of the hot path.

``from layer_migrate.engine import translate_request, Options, …`` is the import surface; the
result and option types are re-exported from their leaf modules for that reason.
"""

from __future__ import annotations

from ..options import Options
from ..prerequisites import EnsureIdentity, EnsureParticipant, Prerequisite
from ..results import PayloadTranslation, ResponseTranslation, Translation, WebhookTranslation
from .api import (
    default_engine,
    translate_payload,
    translate_request,
    translate_response,
    translate_webhook,
)
from .chain import Engine
from .examples import run_example
from .negotiation import detect_version

__all__ = [
    "Engine", "EnsureIdentity", "EnsureParticipant", "Options", "PayloadTranslation", "Prerequisite",
    "ResponseTranslation", "Translation", "WebhookTranslation", "default_engine", "detect_version",
    "run_example", "translate_payload", "translate_request", "translate_response",
    "translate_webhook",
]
