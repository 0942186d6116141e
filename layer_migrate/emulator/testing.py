"""Pytest plugin: ``pytest_plugins = ["layer_migrate.emulator.testing"]`` in a conftest gives

* ``emulator`` — a fresh strict :class:`~layer_migrate.emulator.Emulator` per test, on a free
  loopback port, with webhook retries shortened for tests;
* ``lenient_emulator`` — the same with ``lenient=True``;
* ``emulator_client`` — an ``httpx.Client`` bound to ``emulator.url`` with the bearer token set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Emulator

TEST_OPTIONS = {"retry_base": 0.02, "retry_cap": 0.1, "max_attempts": 4, "webhook_timeout": 2.0}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(**TEST_OPTIONS)
    with emu.running():
        yield emu
    emu.close()


@pytest.fixture
def lenient_emulator() -> Iterator[Emulator]:
    emu = Emulator(lenient=True, **TEST_OPTIONS)
    with emu.running():
        yield emu
    emu.close()


@pytest.fixture
def emulator_client(emulator: Emulator) -> Iterator[object]:
    import httpx

    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {emulator.token}"},
                      timeout=10) as client:
        yield client
