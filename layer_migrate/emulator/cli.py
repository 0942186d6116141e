"""``layer-migrate emulator``: run the strict local Layer Platform API in the foreground."""

from __future__ import annotations

import sys
import uuid
from datetime import date

import click

from .server import DEFAULT_TOKEN, EMULATOR_APP_ID
from .timeline import Timeline, parse_as_of


def _check_app_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a UUID (example: {EMULATOR_APP_ID})") from None


def _check_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return Timeline(parse_as_of(value)).as_of
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("emulator", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. Example: --host 127.0.0.1")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0 = any free port). Example: --port 8000")
@click.option("--db", "db", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help="SQLite file that keeps all state across restarts (default: in memory). "
                   "Example: --db layer.sqlite")
@click.option("--token", default=None, metavar="TOKEN",
              help=f"Bearer token clients must send (default: {DEFAULT_TOKEN}). Example: --token s3cret")
@click.option("--lenient", is_flag=True, default=False,
              help="Accept the undocumented v1 shapes the real 2.0/3.0 server probably tolerated "
                   "(bare user ids as identity ids, participants 'set' with a list, v1 notification "
                   "recipients, application/json on PATCH). Example: --lenient")
@click.option("--app-id", default=EMULATOR_APP_ID, show_default=True, callback=_check_app_id,
              metavar="UUID", help=f"App UUID used in /apps/:app paths. Example: --app-id {EMULATOR_APP_ID}")
@click.option("--base-url", default="https://api.layer.com", show_default=True, metavar="URL",
              help="Host rendered into 'url' fields of responses. Example: --base-url http://127.0.0.1:8000")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", callback=_check_as_of,
              help="Emulate the service at that date: every dated change-log behaviour follows it "
                   "(default: the latest). Example: --as-of 2015-10-01")
def emulator(host: str, port: int, db: str | None, token: str | None, lenient: bool, app_id: str,
             base_url: str, as_of: date | None) -> None:
    """Run the strict local Layer Platform API (versions 1.0, 1.1, 2.0, 3.0).

    The version is chosen per request by the Accept header
    (application/vnd.layer+json; version=X.Y). Stop with Ctrl-C (SIGINT) or SIGTERM.

    \b
    Examples:
      layer-migrate emulator
      layer-migrate emulator --port 8000 --db layer.sqlite --token s3cret
      curl -H 'Authorization: Bearer emulator-token' \\
           -H 'Accept: application/vnd.layer+json; version=3.0' \\
           http://127.0.0.1:8000/apps/00000000-0000-4000-8000-00000000a991/users/alice/identity
    """
    from .server import Emulator

    try:
        emu = Emulator(host=host, port=port, db=db, token=token or DEFAULT_TOKEN, lenient=lenient,
                       app_id=app_id, base_url=base_url, log_level="warning", as_of=as_of)
    except Exception as exc:  # noqa: BLE001 - e.g. an unreadable --db file: one line, exit 2
        click.echo(f"layer-migrate emulator: cannot open database {db}: {exc}", err=True)
        sys.exit(2)

    def ready(e: Emulator) -> None:
        click.echo(f"Layer Platform API emulator listening on {e.url}")
        click.echo(f"  app id: {e.app_id}   versions: 1.0 1.1 2.0 3.0   "
                   f"mode: {'lenient' if lenient else 'strict'}   db: {db or 'in memory'}   "
                   f"as of: {as_of.isoformat() if as_of else 'latest'}")
        if token is None:
            click.echo(f"  no --token given: accepting 'Authorization: Bearer {DEFAULT_TOKEN}'")
        else:
            click.echo("  accepting the bearer token given with --token")

    try:
        emu.serve_forever(on_ready=ready)
    except OSError as exc:
        click.echo(f"layer-migrate emulator: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo("emulator stopped")
