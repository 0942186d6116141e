"""``layer-migrate samples DIR`` — copy the bundled sample app, bot map and payloads into DIR.

The README and the demo name files such as ``samples/bot-map.json``; a wheel user has no
checkout, so the files ship inside the package and this command puts a copy where the user can
read and edit it. It never overwrites: an existing non-empty DIR is refused.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from .demo import DemoFailure, sample_root


@click.command("samples")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def samples(directory: Path) -> None:
    """Copy the bundled samples (sample v1 app, bot map, payloads, proxy.toml) into DIRECTORY.

    DIRECTORY must not exist yet or be empty; nothing is overwritten.

    \b
    Example:
      layer-migrate samples lm-samples
      layer-migrate translate request --to 3.0 --bot-map lm-samples/bot-map.json \\
          lm-samples/payloads/send-message-as-bot.json
    """
    if directory.exists() and any(directory.iterdir()):
        click.echo(f"layer-migrate samples: {directory}: exists and is not empty; nothing copied", err=True)
        sys.exit(2)
    try:
        source = sample_root()
    except DemoFailure as exc:
        click.echo(f"layer-migrate samples: {exc}", err=True)
        sys.exit(2)
    shutil.copytree(source, directory, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py"))
    click.echo(f"copied the samples to {directory}/ (see {directory}/README.md)")
