"""The strict reference server: a local Layer Platform API speaking 1.0, 1.1, 2.0 and 3.0.

It is an *independent oracle* (design.md): every version is rendered from one neutral SQLite
model and the spec, never by calling the translation rules, so the proxy and the engine can be
tested against it differentially.

    from layer_migrate.emulator import Emulator, EMULATOR_APP_ID
    with Emulator(lenient=False, token="emulator-token", db=None).running() as emu:
        emu.url; emu.app_id; emu.token
        emu.store.messages(); emu.store.notifications(); emu.store.webhook_deliveries()

Command line: ``layer-migrate emulator --help``. Pytest: ``pytest_plugins =
["layer_migrate.emulator.testing"]`` gives an ``emulator`` fixture.
"""

from __future__ import annotations

from .server import DEFAULT_TOKEN, EMULATOR_APP_ID, Emulator
from .store import Store

__all__ = ["DEFAULT_TOKEN", "EMULATOR_APP_ID", "Emulator", "Store"]
