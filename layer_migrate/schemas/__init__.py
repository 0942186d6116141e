"""JSON Schemas of Platform API request and response bodies, per version (``<version>/<kind>.json``).

Built by :mod:`layer_migrate.schemas._build` from the spec's tables and shipped as data. Used by the
test suite (every upgraded request must validate against its target version's schema) and by
``layer-migrate validate``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

HERE = Path(__file__).resolve().parent
VERSIONS = ("1.0", "1.1", "2.0", "3.0")


def kinds(version: str = "1.1") -> list[str]:
    """The schema kinds available for ``version`` (``block_request`` exists only for 1.x)."""
    return sorted(p.stem for p in (HERE / version).glob("*.json"))


class UnknownSchema(ValueError):
    """No schema for that version/kind."""


@lru_cache(maxsize=128)
def load_schema(version: str, kind: str) -> dict[str, Any]:
    """The schema for ``kind`` (e.g. ``"message_request"``) at ``version``."""
    path = HERE / version / f"{kind}.json"
    if version not in VERSIONS:
        raise UnknownSchema(f"unknown version {version!r}; expected one of {', '.join(VERSIONS)}")
    if not path.is_file():
        raise UnknownSchema(f"no schema {kind!r} for version {version}; known: {', '.join(kinds(version))}")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=128)
def validator(version: str, kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(version, kind))


def validate(version: str, kind: str, instance: Any) -> list[str]:
    """Validation errors as ``"<json path>: <message>"`` lines (empty list = valid)."""
    errors = sorted(validator(version, kind).iter_errors(instance), key=lambda e: list(e.absolute_path))
    out = []
    for e in errors:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path) or "."
        out.append(f"{path.lstrip('.') or '(body)'}: {e.message}")
    return out
