"""Checks of the engine-facing settings (``engine-options``, ``as-of``) against ``Options``.

Apart from :mod:`.settings` so that :class:`~.config.ProxyConfig` can run them at construction
without importing the settings model (which imports the config).
"""

from __future__ import annotations

import dataclasses
import datetime
import typing
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .config_error import ConfigError
from .config_error import type_name as _type_name


@lru_cache(maxsize=1)
def _options_model() -> type[BaseModel]:
    from ..options import Options

    hints = typing.get_type_hints(Options)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(Options):
        if f.name == "bots":
            continue  # from --bot-map, not a plain value
        fields[f.name] = (hints[f.name], None)
    return create_model("EngineOptions", __config__=ConfigDict(extra="forbid", strict=True),
                        **fields)


def check_engine_options(values: Mapping[str, Any]) -> None:
    """Refuse ``engine-options`` entries that ``Options`` lacks or that have the wrong type."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"engine-options: expected a table, got {values!r}")
    if not values:
        return
    model = _options_model()
    try:
        model(**{k: v for k, v in values.items()})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err.get("loc") else "?"
        if err["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            raise ConfigError(f"engine-options: unknown engine option {key!r} (known: {known})") from None
        expected = _type_name(model.model_fields[key].annotation)
        raise ConfigError(f"engine-options: {key}: expected {expected}, got {err.get('input')!r}") from None


def check_as_of(value: Any) -> str:
    """``as-of`` as ``YYYY-MM-DD``; refused when the engine's ``Options`` cannot take a date."""
    if isinstance(value, datetime.date):
        value = value.isoformat()
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"as-of: expected date (YYYY-MM-DD), got {value!r}") from None
    from ..options import Options

    if "as_of" not in {f.name for f in dataclasses.fields(Options)}:
        raise ConfigError("as-of: this engine's Options has no as_of (dated behaviour) yet")
    return day.isoformat()
