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
from jsonschema.exceptions import ValidationError, best_match

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
    """Validation errors as ``"<json path>: <message>"`` lines (empty list = valid).

    One line per failing location, in plain words: where a value matches none of several
    alternatives (``anyOf``/``oneOf``) the alternative that came closest is explained
    (:func:`jsonschema.exceptions.best_match`) instead of dumping the whole object.
    """
    out = []
    seen: set[str] = set()
    for error in sorted(validator(version, kind).iter_errors(instance), key=lambda e: list(e.absolute_path)):
        deepest = _deepest(error)
        line = f"{json_path(deepest)}: {plain_message(deepest)}"
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


def json_path(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(body)"


def _deepest(error: ValidationError) -> ValidationError:
    """For an ``anyOf``/``oneOf`` failure, the closest alternative's best error (recursively)."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        closest = best_match(_closest_alternative(error.context))
        if closest is None:
            break
        error = closest
    return error


def plain_message(error: ValidationError) -> str:
    """The error in words; never the repr of a whole object or array."""
    message = error.message
    if error.validator == "not" and isinstance(error.validator_value, dict) \
            and list(error.validator_value) == ["required"]:
        names = ", ".join(repr(n) for n in error.validator_value["required"])
        return f"must not have {names} here"
    if isinstance(error.instance, (dict, list)):
        shown = repr(error.instance)
        if message.startswith(shown):
            message = ("the object" if isinstance(error.instance, dict) else "the array") + message[len(shown):]
    return message


def _closest_alternative(errors: list[ValidationError]) -> list[ValidationError]:
    """The errors of the alternative that got furthest: one whose type matched the value.

    An alternative that failed only on its own ``type`` (``null`` for an object) says nothing
    useful; one that failed deeper inside the value names what is actually wrong.
    """
    by_alternative: dict[Any, list[ValidationError]] = {}
    for e in errors:
        by_alternative.setdefault(e.schema_path[0] if e.schema_path else None, []).append(e)
    useful = [errs for errs in by_alternative.values()
              if not all(e.validator == "type" and not e.relative_path for e in errs)]
    if not useful:
        return errors
    return max(useful, key=lambda errs: max(len(e.relative_path) for e in errs))
