"""The README's "No code change" section stays true."""

from __future__ import annotations

import os
import re
from pathlib import Path

from layer_migrate.inprocess import current
from layer_migrate.inprocess.run import run as run_command

ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split("## No code change", 1)[1].split("\n## ", 1)[0]


def test_readme_install_example_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    code = re.findall(r"```python\n(.*?)```", SECTION, flags=re.S)[0]
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
    inst = current()
    assert inst is not None and inst.upstream == "http://127.0.0.1:8000"
    assert inst.config.options.bots.mapping  # the sample bot map was read


def test_readme_run_examples_use_real_options():
    commands = re.findall(r"```sh\n(.*?)```", SECTION, flags=re.S)[0]
    names = {p.opts[0] for p in run_command.params if p.opts}
    for flag in re.findall(r"(--[a-z-]+)", commands):
        assert flag in names, flag
    assert "LAYER_MIGRATE_TO" in commands and os.path.isfile(ROOT / "docs" / "inprocess.md")
