"""End to end: the sample legacy app's own tests pass at 1.1, then — after ``layer-migrate codemod
--target 3.0`` on a temporary copy — at 3.0, against the emulator (issue 5, "Done when").
Also with ``--identity-helper import`` and with ``--target 2.0``."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "legacy_app"
EXE = Path(sys.executable).with_name("layer-migrate")


def run_sample_tests(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings"],
                          cwd=root, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("target, helper", [("3.0", "inline"), ("3.0", "import"), ("2.0", "inline")])
def test_sample_app_migrates_and_its_tests_pass(tmp_path, target, helper):
    app = tmp_path / "legacy_app"
    shutil.copytree(SAMPLE, app, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))

    if (target, helper) == ("3.0", "inline"):  # the untouched v1 app passes first (once is enough)
        before = run_sample_tests(app)
        assert before.returncode == 0, before.stdout + before.stderr

    proc = subprocess.run([str(EXE), "codemod", "--target", target, "--identity-helper", helper,
                           "--bot-map", str(app / "bot-map.json"),
                           "--report", str(tmp_path / "report.json"), "-q", str(app)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["files"]["changed"] >= 3
    assert report["bots"] == {"Support": "support-bot"}
    client = (app / "legacy_app" / "layer_client.py").read_text()
    assert f"version={target}" in client and "version=1.1" not in client
    if helper == "import":
        assert "from layer_migrate.identity import identity_id" in client
    assert '"sender_id": "layer:///identities/support-bot"' in client
    assert "/blocks" in client  # the GET list stays; POST/DELETE became the PATCH
    assert "self.session.post(self._url(\"/users/\"" not in client

    after = run_sample_tests(app)
    assert after.returncode == 0, after.stdout + after.stderr

    again = subprocess.run([str(EXE), "codemod", "--check", "--target", target, "--identity-helper", helper,
                            "--bot-map",
                            str(app / "bot-map.json"), "-q", str(app)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr  # a second run changes nothing
