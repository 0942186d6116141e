"""The ``layer-migrate`` command line.

Each subcommand lives in the module of the product it drives and is imported only when used,
so ``layer-migrate codemod`` never pays for uvicorn and ``layer-migrate proxy`` never for libcst.
"""

from __future__ import annotations

import importlib
import sys

import click

#: subcommand → "module:attribute" of a click command.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "translate": ("layer_migrate.translate_cli:translate", "Translate one request, response or payload between versions."),
    "validate": ("layer_migrate.translate_cli:validate", "Validate a JSON body against a version's schema."),
    "rules": ("layer_migrate.translate_cli:rules", "List every rule (or print the migration guide)."),
    "proxy": ("layer_migrate.proxy.cli:proxy", "Run the migration proxy in front of legacy v1 clients."),
    "codemod": ("layer_migrate.codemod.cli:codemod", "Rewrite Python integration code from 1.x to 2.0/3.0."),
    "emulator": ("layer_migrate.emulator.cli:emulator", "Run the strict local Layer Platform API (1.0-3.0)."),
    "run": ("layer_migrate.inprocess.run:run", "Run a program with its Layer calls migrated in-process (no code change)."),
    "demo": ("layer_migrate.demo:demo", "Run emulator, proxy and codemod on the bundled sample app."),
    "samples": ("layer_migrate.samples_cli:samples", "Copy the bundled sample app, bot map and payloads into DIR."),
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a product not built yet, or a missing dependency
            reason = str(exc)

            @click.command(cmd_name, help=target[1])
            def unavailable() -> None:
                click.echo(f"layer-migrate {cmd_name}: not available: {reason}", err=True)
                sys.exit(2)

            return unavailable
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the static help lines: listing commands must not import every product.
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in SUBCOMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="layer-migrate")
def main() -> None:
    """Move Layer Platform API integrations from 1.x to 2.0/3.0.

    \b
    Examples (start here):
      layer-migrate demo                      # everything, on the bundled sample app
      layer-migrate rules                     # what changed, rule by rule
      layer-migrate emulator --port 8000      # a local Platform API (1.0-3.0)
      layer-migrate proxy --upstream http://127.0.0.1:8000
      layer-migrate codemod --diff src/
      layer-migrate run --to 3.0 -- python app.py   # no code change
    """


if __name__ == "__main__":  # pragma: no cover
    main()
