"""``[tool.layer-migrate]`` in pyproject.toml: defaults for the codemod's command-line options.

Looked up from the current directory upwards (like ruff and black). Keys mirror the long options:
``target``, ``bot-map``, ``disable``, ``enable``, ``exclude``, ``identity-helper``, ``jobs``.
Command-line values win; list options are merged. Relative ``bot-map`` paths are resolved
against the pyproject's folder.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

KNOWN = {"target", "bot-map", "disable", "enable", "exclude", "identity-helper", "jobs"}


class ConfigError(ValueError):
    pass


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for d in (start, *start.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    path = find_pyproject(start or Path.cwd())
    if path is None:
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}:1: cannot read pyproject.toml: {exc}") from None
    section = data.get("tool", {}).get("layer-migrate", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}:1: [tool.layer-migrate] must be a table")
    # the codemod's own keys may also live in a [tool.layer-migrate.codemod] sub-table
    merged = {k: v for k, v in section.items() if not isinstance(v, dict)}
    merged.update(section.get("codemod", {}) if isinstance(section.get("codemod"), dict) else {})
    unknown = sorted(set(merged) - KNOWN)
    if unknown:
        # warned, not fatal: a newer config may name options an older codemod does not know
        print(f"{path}:1: warning: unknown [tool.layer-migrate] key(s) ignored: {', '.join(unknown)} "
              f"(known: {', '.join(sorted(KNOWN))})", file=sys.stderr)
        merged = {k: v for k, v in merged.items() if k in KNOWN}
    if "bot-map" in merged and isinstance(merged["bot-map"], str):
        merged["bot-map"] = str((path.parent / merged["bot-map"]).resolve())
    for key in ("disable", "enable", "exclude"):
        if key in merged and isinstance(merged[key], str):
            merged[key] = [merged[key]]
        if key in merged and not (isinstance(merged[key], list) and all(isinstance(x, str) for x in merged[key])):
            raise ConfigError(f"{path}:1: [tool.layer-migrate] {key} must be a list of strings")
    return merged, path
