"""Where the exchange loop used to live; kept so existing imports keep working.

The decisions are in :mod:`.migrator` (:class:`Migrator`), the flow and its two drivers in
:mod:`.flow` (:func:`exchange`, :func:`run_sync`, :func:`run_async`). Import from those.
"""

from __future__ import annotations

from .flow import AsyncSend, SyncSend, run_async, run_sync
from .migrator import (
    IDEMPOTENT,
    JSON_CT,
    RETRY_STATUSES,
    Migrator,
    Outcome,
    Plan,
    PrerequisiteCache,
    UpstreamFailure,
    app_id_of,
    error_response,
    upstream_error,
)

__all__ = [
    "IDEMPOTENT", "JSON_CT", "RETRY_STATUSES", "AsyncSend", "Migrator", "Outcome", "Plan",
    "PrerequisiteCache", "SyncSend", "UpstreamFailure", "app_id_of", "error_response", "run_async",
    "run_sync", "upstream_error",
]
