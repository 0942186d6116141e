"""End to end on the real v1 SDK (issue 15, "Done when"): PyPI ``LayerClient==0.1.10``.

Every ``PlatformClient`` method that keeps its promise against the emulator at 1.0 keeps it after
``layer-migrate codemod --target 3.0 --bot-map …`` (and 2.0) with no hand edits; ``--check`` on
the result passes (no markers, nothing left to change) and a second run changes nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layer_migrate.emulator import Emulator

from . import sdk_harness

EXE = Path(sys.executable).with_name("layer-migrate")
pytest.importorskip("dateutil", reason="the SDK imports python-dateutil (test extra)")


@pytest.fixture(scope="module")
def sdk() -> Path:
    try:
        return sdk_harness.sdk_source()
    except sdk_harness.SdkUnavailable as exc:
        pytest.skip(f"LayerClient 0.1.10 source not downloadable here: {exc}")


@pytest.fixture(scope="module")
def baseline(sdk: Path) -> dict[str, str | None]:
    with Emulator().running() as emu:
        sdk_harness.provision(emu)
        return sdk_harness.exercise(sdk_harness.load(sdk / "LayerClient" / "LayerClient.py", emu.url), emu)


def test_most_methods_work_at_1_0(baseline):
    working = [m for m, err in baseline.items() if err is None]
    assert len(working) >= 12, baseline  # the harness itself is sound


@pytest.mark.slow
@pytest.mark.parametrize("target", ["3.0", "2.0"])
def test_sdk_migrated_by_the_codemod_keeps_every_working_method(sdk, baseline, tmp_path, target):
    root = tmp_path / "sdk"
    shutil.copytree(sdk, root)
    bot_map = tmp_path / "bots.json"
    bot_map.write_text(json.dumps(sdk_harness.BOTS))
    cmd = [str(EXE), "codemod", "--target", target, "--bot-map", str(bot_map), "-q"]
    proc = subprocess.run([*cmd, "--report", str(tmp_path / "r.json"), str(root)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["markers"] == [] and report["skipped"] == [], report
    source = (root / "LayerClient" / "LayerClient.py").read_text()
    assert f"version={target}" in source and "version=1.0" not in source

    with Emulator().running() as emu:
        sdk_harness.provision(emu)
        after = sdk_harness.exercise(sdk_harness.load(root / "LayerClient" / "LayerClient.py", emu.url), emu)
    regressions = {m: err for m, err in after.items() if baseline[m] is None and err is not None}
    assert regressions == {}, regressions

    again = subprocess.run([*cmd, "--check", str(root)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr  # nothing left to change, no marker left
    assert (root / "LayerClient" / "LayerClient.py").read_text() == source
