"""``layer-migrate run``: run an unmodified program with the installation active from its start.

The ``opentelemetry-instrument`` / ``ddtrace-run`` pattern: validate the settings here (exit 2
with one line on bad ones), prepend a private directory holding a ``sitecustomize`` to
``PYTHONPATH``, export the settings as ``LAYER_MIGRATE_*`` and ``exec`` the command. ``exec``
(not a child process) is what passes everything through untouched: same pid, same
stdin/stdout/stderr, signals go straight to the program, its exit status is ours.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from .config import ENV, InstallError, build_config, config_to_env

SITE_DIR = Path(__file__).resolve().parent / "site"

EPILOG = """\b
Examples:
  # the v1 SDK, unchanged, against a 3.0 staging host
  layer-migrate run --to 3.0 --upstream https://staging.example.net -- python app.py
  # a gunicorn service, bot names from a file, summary of rules at exit
  layer-migrate run --to 3.0 --bot-map bots.json --summary -- gunicorn app:wsgi
  # the same from the environment (containers): flags win over variables
  LAYER_MIGRATE_TO=3.0 LAYER_MIGRATE_UPSTREAM=http://127.0.0.1:8000 layer-migrate run -- python app.py

\b
Variables: LAYER_MIGRATE_TO, LAYER_MIGRATE_UPSTREAM, LAYER_MIGRATE_HOSTS (comma-separated),
LAYER_MIGRATE_BOT_MAP, LAYER_MIGRATE_SUMMARY=1, LAYER_MIGRATE_LOG_LEVEL=DEBUG.
Only Python programs are migrated (any depth of child processes that inherit the environment);
`python -I`/`-S` skip sitecustomize and so the migration.
"""


def _fail(message: str) -> None:
    click.echo(f"layer-migrate run: {message}", err=True)
    sys.exit(2)


def child_environment(env: dict[str, str], settings: dict[str, str]) -> dict[str, str]:
    """``env`` with the settings exported and ``site/`` first on PYTHONPATH (once)."""
    out = dict(env)
    out.update(settings)
    paths = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(SITE_DIR)]
    out["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), *paths])
    # Where layer_migrate is importable from, for a program running another interpreter/venv.
    out["LAYER_MIGRATE_HOME"] = str(Path(__file__).resolve().parents[2])
    return out


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
               epilog=EPILOG)
@click.option("--to", "to", metavar="VERSION", default=None,
              help="Version to translate to: 2.0 or 3.0 [env LAYER_MIGRATE_TO; required].")
@click.option("--upstream", metavar="URL", default=None,
              help="Send the Layer calls here instead (http(s)://host[:port]) [env LAYER_MIGRATE_UPSTREAM].")
@click.option("--bot-map", type=click.Path(dir_okay=False), default=None,
              help='JSON {"v1 sender.name": "bot user id"} [env LAYER_MIGRATE_BOT_MAP].')
@click.option("--host", "hosts", multiple=True, metavar="HOST",
              help="A host whose calls are migrated (repeatable) [default: api.layer.com; env LAYER_MIGRATE_HOSTS].")
@click.option("--summary", is_flag=True, default=False,
              help="Print the rules applied per endpoint to stderr when the program exits.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING"], case_sensitive=False),
              default=None, help="Log each translated call (endpoint, status, rule ids; never tokens) to stderr.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(to: str | None, upstream: str | None, bot_map: str | None, hosts: tuple[str, ...],
        summary: bool, log_level: str | None, command: tuple[str, ...]) -> None:
    """Run COMMAND with every Layer API call migrated in-process (no code change).

    Put `--` before the command. The program's exit status, standard streams and signals pass
    through unchanged.
    """
    env = os.environ
    to = to or env.get(ENV["to"]) or None
    if not to:
        _fail("--to VERSION is required (or set LAYER_MIGRATE_TO)")
    upstream = upstream if upstream is not None else (env.get(ENV["upstream"]) or None)
    bot_map = bot_map if bot_map is not None else (env.get(ENV["bot_map"]) or None)
    host_list = list(hosts) or [h for h in env.get(ENV["hosts"], "").split(",") if h.strip()] or None
    kwargs = {"hosts": host_list} if host_list else {}
    target = None if str(to).lower() in ("none", "off", "reroute") else to
    try:
        cfg = build_config(target, upstream=upstream, bot_map=bot_map, **kwargs)
    except InstallError as exc:
        _fail(str(exc))
        return
    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        _fail("no command given (usage: layer-migrate run --to 3.0 -- COMMAND [ARGS...])")
    executable = shutil.which(argv[0])
    if executable is None:
        click.echo(f"layer-migrate run: {argv[0]}: command not found", err=True)
        sys.exit(127)
    settings = config_to_env(cfg)
    settings[ENV["summary"]] = "1" if summary or env.get(ENV["summary"]) == "1" else "0"
    if log_level:
        settings[ENV["log_level"]] = log_level.upper()
    child_env = child_environment(dict(env), settings)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(executable, argv, child_env)
    except OSError as exc:
        click.echo(f"layer-migrate run: {argv[0]}: {exc.strerror or exc}", err=True)
        sys.exit(126)
