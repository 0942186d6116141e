"""Fixtures for the change-log conformance tests: an emulator at a chosen date (``--as-of``),
real servers on 127.0.0.1, real HTTP. ``at("2015-09-15")`` → an :class:`Api` speaking 1.0 to an
emulator of that date (``None`` = the latest behaviour)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from emulator.conftest import Api

from layer_migrate.emulator import Emulator
from layer_migrate.emulator.testing import TEST_OPTIONS


class Clock:
    """An injectable wall clock: tests move time instead of sleeping."""

    def __init__(self, start: float = 1_500_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def at() -> Iterator[Callable[..., Api]]:
    started: list[tuple[Emulator, httpx.Client]] = []

    def make(when: str | None, version: str = "1.0", **options: Any) -> Api:
        emu = Emulator(as_of=date.fromisoformat(when) if when else None, **{**TEST_OPTIONS, **options})
        emu.start()
        client = httpx.Client(base_url=emu.url, timeout=10)
        started.append((emu, client))
        return Api(emu, version, client)

    yield make
    for emu, client in started:
        client.close()
        emu.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()
