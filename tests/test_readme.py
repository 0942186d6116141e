"""README.md stays true: its quick-start commands and its library example."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def code_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_quick_start_has_exactly_the_two_commands_ci_runs():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick, flags=re.S)
    assert commands == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && layer-migrate demo",
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && python -m pytest -q',
    ]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q -e ".[test]"' in ci and "python -m pytest -q" in ci and "layer-migrate demo" in ci


def test_library_example_runs_and_says_what_it_shows():
    example = next(block for block in code_blocks("python") if "translate_request" in block)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    up, down = namespace["up"], namespace["down"]
    assert (up.request.method, up.request.path) == ("PATCH", "/apps/APP/users/alice")
    assert up.request.body == [{"operation": "add", "property": "blocks", "id": "layer:///identities/carol"}]
    assert "v2.blocks.post_to_patch" in up.applied
    assert f"up.applied        # {up.applied!r}" in example
    assert down.response.status == 204
