"""The package's public face: typed for checkers, listed for ``dir()``, versioned, runnable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import layer_migrate

ROOT = Path(__file__).resolve().parents[1]


def test_type_checkers_see_precise_public_types(tmp_path: Path):
    """``reveal_type(translate_request)`` is the real signature, not ``Any`` (issue 16)."""
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "import layer_migrate\n"
        "from layer_migrate import Options, translate_request\n"
        "reveal_type(translate_request)\n"
        "reveal_type(layer_migrate.translate_webhook)\n"
        "reveal_type(Options().drop_nulls)\n"
        "reveal_type(layer_migrate.__version__)\n", encoding="utf-8")
    # MYPYPATH: an editable install is an import hook mypy cannot follow; a wheel needs none.
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / ".mypy_cache"), str(snippet)],
        capture_output=True, text=True, cwd=tmp_path, env={"MYPYPATH": str(ROOT), "PATH": ""},
        timeout=300)
    notes = [line.split("Revealed type is ", 1)[1] for line in proc.stdout.splitlines()
             if "Revealed type is" in line]
    assert len(notes) == 4, proc.stdout + proc.stderr
    assert notes[0].startswith('"def (request: layer_migrate.exchange.Request, to: str')
    assert notes[0].endswith('-> layer_migrate.results.Translation"')
    assert notes[1].endswith('-> layer_migrate.results.WebhookTranslation"')
    assert [n.replace('builtins.', '') for n in notes[2:]] == ['"bool"', '"str"']
    assert "error" not in proc.stdout


def test_dir_lists_every_public_name_and_all_resolve():
    names = dir(layer_migrate)
    for name in layer_migrate.__all__:
        assert name in names
        assert getattr(layer_migrate, name) is not None
    assert layer_migrate.translate_request.__module__ == "layer_migrate.engine.api"


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert layer_migrate.__version__ == version("layer-migrate")


def test_importing_the_package_loads_no_rules():
    code = ("import sys, layer_migrate; layer_migrate.Options; "
            "print(any(m.startswith(('layer_migrate.engine', 'layer_migrate.rules.')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_unknown_attribute_is_an_attribute_error():
    try:
        layer_migrate.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "layer_migrate", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert "Usage: python -m layer_migrate" in out.stdout


def test_license_file_is_mit_and_ships():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_library_docstrings_point_only_at_shipped_files():
    """The wheel has no docs/ or spec/: the library's docstrings must not send readers there
    (docs/rules.md is named only as what ``layer-migrate rules --markdown`` prints)."""
    import re

    pkg = ROOT / "layer_migrate"
    areas = [p for p in pkg.glob("*.py")] + [p for d in ("rulebook", "engine", "rules")
                                               for p in (pkg / d).rglob("*.py")]
    bad = []
    for path in areas:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"architecture\.md|\bspec/|layer-platform-api\.md|/work/", line):
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert bad == []


def test_the_library_needs_none_of_the_tools_dependencies():
    """Translating imports only jsonpatch beyond the standard library: the proxy, codemod,
    emulator and CLI stacks stay unloaded (README, "Installing")."""
    code = """
import sys
for name in ("uvicorn", "aiohttp", "httptools", "uvloop", "requests", "libcst", "httpx", "rich",
             "jsonschema", "click", "orjson"):
    sys.modules[name] = None  # importing it now fails
from layer_migrate import Request, translate_request, translate_webhook
t = translate_request(Request("POST", "/apps/A/conversations", {}, {"participants": ["a"]}), to="3.0")
w = translate_webhook("Message.deleted", {"event": {"type": "Message.deleted"}}, "3.0")
print(t.request.body["participants"][0], w.events[0][0])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["layer:///identities/a", "message.deleted"], out.stderr
