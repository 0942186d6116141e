"""Guards for the codemod's performance work (issue 14): behaviour stays, waste does not return."""

import gc
from pathlib import Path

import pytest

from layer_migrate.codemod import Options, build_index, rewrite_source
from layer_migrate.identity import BotDirectory

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "legacy_app").rglob("*.py"))


@pytest.fixture(scope="module")
def options():
    return Options(index=build_index("3.0"), bots=BotDirectory({"Support": "support-bot"}))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_no_reference_cycles_per_file(path, options):
    """A file's tree is freed by reference counting when its rewrite returns: a cycle through
    the rewriter (or a class defined per call) would keep every node alive until the garbage
    collector runs — thousands of objects a file, and the collector's time."""
    code = path.read_bytes()
    rewrite_source(code, options)  # warm caches
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        out = rewrite_source(code, options)
        garbage = gc.collect()
    finally:
        if was:
            gc.enable()
    assert garbage < 100, f"{garbage} objects in reference cycles after one file ({out.changed=})"
