"""Fixtures for the no-code-change tests: the real LayerClient SDK, real servers on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import layer_migrate.inprocess as inprocess

LAYERCLIENT = "LayerClient==0.1.10"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "layer-migrate-tests" / LAYERCLIENT.replace("==", "-")


@pytest.fixture(scope="session")
def layerclient_path() -> str | None:
    """Where the unmodified PyPI SDK is importable from: None when the test environment has it
    (an extra), else a cached ``pip install --target`` folder, appended to ``sys.path`` (last, so
    it never shadows this environment's requests). Failing to install it fails the tests."""
    if importlib.util.find_spec("LayerClient") is not None and importlib.util.find_spec("dateutil") is not None:
        return None
    target = _cache_dir()
    if not (target / "LayerClient" / "LayerClient.py").is_file():
        target.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                               "--target", str(target), LAYERCLIENT, "python-dateutil", "six"],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.fail(f"could not install {LAYERCLIENT} into {target}: {proc.stderr.strip()[-500:]}")
    if str(target) not in sys.path:
        sys.path.append(str(target))
    return str(target)


@pytest.fixture(autouse=True)
def _no_leftover_installation():
    """Every test starts and ends with nothing installed (a failing test must not leak hooks)."""
    inprocess.uninstall()
    yield
    inprocess.uninstall()
