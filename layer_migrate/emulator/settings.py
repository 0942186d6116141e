"""What handlers may know about the running emulator: configuration, the store, the renderer,
the emulated date, fault switches and the clock — one object, built by ``app.py``.

It exists so that no handler reaches back into the ASGI application (issue 13: ``http.py`` →
``app.py`` → every handler → back was a nine-module import cycle). This module imports only
leaves (``render``, ``store``, ``timeline``); ``app.py`` builds a :class:`Settings` and hands it to
every :class:`~layer_migrate.emulator.http.Ctx` and to the webhook dispatcher.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .render import Renderer
from .store import Store
from .timeline import Timeline

#: Fault switches (``Emulator(faults={...})`` or ``PUT /_emulator/faults``), for paths a healthy
#: emulator never takes: ``announcement_enqueue`` (the announcement queue refuses, 2015-08-21
#: → 503) and ``internal_error`` (every Platform API request fails unexpectedly → 500, or 503
#: before 2015-08-21).
FAULTS = frozenset({"announcement_enqueue", "internal_error"})


def check_faults(names: set[str] | frozenset[str] | list[str] | tuple[str, ...]) -> set[str]:
    unknown = set(names) - FAULTS
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(FAULTS)}")
    return set(names)


class EmulatedFailure(Exception):
    """An internal error the emulated service had (a pre-fix date of the change log, or a fault
    switch): answered like any unexpected error, but logged without a traceback."""


@dataclass
class Settings:
    """Per-emulator configuration and services (INFERRED options are documented in the README)."""

    store: Store
    renderer: Renderer
    timeline: Timeline = field(default_factory=Timeline)
    lenient: bool = False
    distinct_default: bool = True
    max_participants: int = 25
    enforce_blocks: bool = True
    distinct_location: bool = False
    #: Where the emulator itself is reachable (content upload/download URLs); set once bound.
    local_url: str = "http://127.0.0.1"
    faults: set[str] = field(default_factory=set)
    #: Wall-clock seconds since the epoch; injectable so delayed-message tests need not sleep.
    clock: Callable[[], float] = time.time
    #: Earliest due time of a waiting delayed message (``None``: none waits), so requests skip
    #: the store read when nothing is scheduled (a hint: the store stays the truth).
    next_due: float | None = None
    #: Called with a webhook uuid to run its verification challenge after the commit.
    verify_webhook: Callable[[str], None] = lambda _uuid: None
