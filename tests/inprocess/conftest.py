"""Fixtures for the no-code-change tests: the real LayerClient SDK, real servers on 127.0.0.1."""

from __future__ import annotations

import importlib.util

import pytest

import layer_migrate.inprocess as inprocess


@pytest.fixture(scope="session")
def layerclient() -> None:
    """The unmodified PyPI ``LayerClient==0.1.10`` SDK comes with the ``test`` extra (it is what
    real v1 integrations ran); without it these tests fail, naming the fix — never a skip."""
    if importlib.util.find_spec("LayerClient") is None or importlib.util.find_spec("dateutil") is None:
        pytest.fail('LayerClient==0.1.10 is not installed: pip install -e ".[test]"')


@pytest.fixture(autouse=True)
def _no_leftover_installation():
    """Every test starts and ends with nothing installed (a failing test must not leak hooks)."""
    inprocess.uninstall()
    yield
    inprocess.uninstall()
