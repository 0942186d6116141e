"""The proxy's one settings model: command line > ``LAYER_MIGRATE_PROXY_*`` environment > TOML.

The model is *generated* from :class:`~.config.ProxyConfig`'s fields (pydantic-settings does the
type checking and the environment parsing), so a new proxy setting is one line in the dataclass
and is at once a TOML key, an environment variable and — when it gets a click option of the same
long name — a flag. Keys are the command line's long names (``upstream-timeout`` in TOML,
``--upstream-timeout`` on the command line, ``LAYER_MIGRATE_PROXY_UPSTREAM_TIMEOUT`` in the
environment); ``-`` and ``_`` are interchangeable in TOML.

Everything is checked before anything listens: a wrong type, an unknown key (in the TOML table
or a ``LAYER_MIGRATE_PROXY_*`` variable) or an ``engine-options`` entry ``Options`` does not have
is a :class:`~.config.ConfigError` whose one line names where the value came from, the key and
the expected type.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import typing
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError, create_model
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .config import ENV_VAR, ConfigError, ProxyConfig, read_toml
from .config_error import type_name as _type_name

ENV_PREFIX = "LAYER_MIGRATE_PROXY_"
#: Variables with the prefix that are not settings: the worker hand-off and the config file.
ENV_NOT_SETTINGS = frozenset({ENV_VAR, f"{ENV_PREFIX}CONFIG_FILE"})
#: Settings shown masked by ``--print-config``.
SECRETS = frozenset({"webhook_secret", "upstream_webhook_secret"})
#: Settings the model checks more precisely than the dataclass annotation (stored as text there
#: so the configuration survives the JSON trip to ``--workers``).
PRECISE_TYPES: dict[str, Any] = {"as_of": datetime.date | None}


def key_of(name: str) -> str:
    """Field name → the key users write (the CLI long name without ``--``)."""
    return name.replace("_", "-")


def env_of(name: str) -> str:
    return ENV_PREFIX + name.upper()


class _Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", case_sensitive=False,
                                      validate_default=False, env_parse_none_str="none")


@lru_cache(maxsize=1)
def _fields() -> dict[str, tuple[Any, Any]]:
    hints = typing.get_type_hints(ProxyConfig)
    out: dict[str, tuple[Any, Any]] = {}
    for f in dataclasses.fields(ProxyConfig):
        tp = PRECISE_TYPES.get(f.name, hints[f.name])
        if f.default is not dataclasses.MISSING:
            default = f.default
        else:
            default = f.default_factory()  # type: ignore[misc,operator]
        out[f.name] = (tp, default)
    return out


@lru_cache(maxsize=1)
def settings_model() -> type[BaseSettings]:
    """The pydantic-settings model of :class:`ProxyConfig` (one field per dataclass field)."""
    return create_model("ProxySettings", __base__=_Base, **_fields())  # type: ignore[call-overload]


class _TomlSource(PydanticBaseSettingsSource):
    """The ``[proxy]`` table of a TOML file, keys normalised to field names (lowest precedence)."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def _check_env(environ: Mapping[str, str]) -> None:
    fields = _fields()
    for var in environ:
        up = var.upper()
        if up.startswith(ENV_PREFIX) and up not in ENV_NOT_SETTINGS:
            if up[len(ENV_PREFIX):].lower() not in fields:
                raise ConfigError(f"{var}: unknown proxy setting {key_of(up[len(ENV_PREFIX):].lower())!r}")


def _origin(name: str, cli: Mapping[str, Any], environ: Mapping[str, str], toml_file: Any) -> str:
    if name in cli:
        return f"--{key_of(name)}"
    env = env_of(name)
    if any(k.upper() == env for k in environ):
        return env
    return f"{toml_file}: {key_of(name)}" if toml_file else key_of(name)


def load(cli: Mapping[str, Any] | None = None, *, toml_file: str | Path | None = None,
         environ: Mapping[str, str] | None = None, require_upstream: bool = False) -> ProxyConfig:
    """The effective :class:`ProxyConfig`: ``cli`` values (None = not given) > environment >
    ``toml_file`` > defaults. Raises :class:`ConfigError` (one line) on any bad value, and when
    ``require_upstream`` and no source names the upstream (a server must be told where to go)."""
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (cli or {}).items() if v is not None}
    toml_values = read_toml(toml_file) if toml_file else {}
    _check_env(env)
    model = settings_model()

    class Loaded(model):  # type: ignore[misc, valid-type]
        @classmethod
        def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any,
                                       env_settings: Any, dotenv_settings: Any,
                                       file_secret_settings: Any) -> tuple[Any, ...]:
            return (init_settings, env_settings, _TomlSource(settings_cls, toml_values))

    saved = None
    if environ is not None:  # pydantic-settings reads os.environ: lend it the given mapping
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(environ)
    try:
        settings = Loaded(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err.get("loc") else "?"
        fields = _fields()
        if err["type"] == "extra_forbidden" or name not in fields:
            raise ConfigError(f"{_origin(name, given, env, toml_file)}: unknown proxy setting") from None
        expected = _type_name(fields[name][0])
        raise ConfigError(f"{_origin(name, given, env, toml_file)}: expected {expected}, got "
                          f"{err.get('input')!r} ({err['msg']})") from None
    finally:
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)
    values = settings.model_dump()
    if isinstance(values.get("as_of"), datetime.date):
        values["as_of"] = values["as_of"].isoformat()
    if require_upstream and "upstream" not in given and "upstream" not in toml_values and \
            not any(k.upper() == env_of("upstream") for k in env):
        raise ConfigError(f"--upstream URL is required (or --config FILE, or {env_of('upstream')})")
    try:
        return ProxyConfig(**values)
    except ConfigError as exc:
        text = str(exc)
        for name in ("engine_options", "as_of"):
            if text.startswith(key_of(name) + ":"):
                where = _origin(name, given, env, toml_file)
                raise ConfigError(f"{where}{text[len(key_of(name)):]}") from None
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def effective(cfg: ProxyConfig, *, mask: bool = True) -> dict[str, Any]:
    """``--print-config``: every setting by its key, secrets masked."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if mask and f.name in SECRETS and v:
            v = "********"
        out[key_of(f.name)] = v
    return out


from .engine_checks import check_as_of, check_engine_options  # noqa: E402,F401  (re-exported)


def app_config_from_environment() -> ProxyConfig:
    """The configuration of an app built by an ASGI server (not by ``layer-migrate proxy``).

    A ``--workers`` child finds the parent's validated configuration in
    ``LAYER_MIGRATE_PROXY_CONFIG``; any other server (gunicorn with uvicorn workers, hypercorn…)
    configures the proxy with ``LAYER_MIGRATE_PROXY_*`` variables and, optionally,
    ``LAYER_MIGRATE_PROXY_CONFIG_FILE`` (TOML), validated exactly as the CLI validates them. The
    process log is set up from it either way.
    """
    from . import logs

    if os.environ.get(ENV_VAR):
        cfg = ProxyConfig.from_env()
    else:
        cfg = load({}, toml_file=os.environ.get(f"{ENV_PREFIX}CONFIG_FILE") or None,
                   require_upstream=True)
    logs.setup(cfg.log_level, cfg.log_format, cfg.log_file)  # type: ignore[arg-type]
    return cfg
