"""Start-up of a program run under ``layer-migrate run`` (called from its ``sitecustomize``).

``layer-migrate run`` validates the configuration itself, then puts ``site/`` first on the
program's ``PYTHONPATH`` and the settings in ``LAYER_MIGRATE_*`` variables (the same variables a
container can set directly). Python imports ``sitecustomize`` before the program's first line,
which calls :func:`boot_from_env`: install, set up DEBUG logging and the exit summary if asked,
then :func:`chain_sitecustomize` runs the ``sitecustomize`` our directory shadowed.

A bad variable stops the program before it starts, with one line on stderr and exit status 2 —
a service must not come up half-migrated.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import sys

from .config import ENV, InstallError, config_from_env

__all__ = ["boot_from_env", "chain_sitecustomize"]


def boot_from_env() -> None:
    """Install from ``LAYER_MIGRATE_*`` (nothing to do when ``LAYER_MIGRATE_TO`` is unset)."""
    try:
        cfg = config_from_env()
    except InstallError as exc:
        sys.stderr.write(f"layer-migrate: {exc}\n")
        sys.stderr.flush()
        # SystemExit raised from sitecustomize becomes a traceback and status 1; nothing has run
        # yet that would need cleaning up, so leave directly with the documented status.
        os._exit(2)
    if cfg is None:
        return
    level = os.environ.get(ENV["log_level"], "").upper()
    if level:
        logger = logging.getLogger("layer_migrate.inprocess")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(getattr(logging, level, logging.DEBUG))
    from .installation import install

    inst = install(cfg.to, hosts=cfg.hosts, upstream=cfg.upstream, options=cfg.options,
                   bot_map=cfg.bot_map)
    if os.environ.get(ENV["summary"]) == "1":
        pid = os.getpid()

        def print_summary() -> None:
            # Forked workers inherit the handler; each reports its own calls, marked by pid.
            prefix = "" if os.getpid() == pid else f"[pid {os.getpid()}] "
            text = inst.format_summary()
            try:
                sys.stderr.write("".join(prefix + line + "\n" for line in text.splitlines()))
                sys.stderr.flush()
            except (OSError, ValueError):  # stderr closed by the program
                pass

        atexit.register(print_summary)


def chain_sitecustomize(our_name: str = "sitecustomize") -> None:
    """Import the next ``sitecustomize`` on ``sys.path`` (the one ours shadowed), if any."""
    ours = sys.modules.get(our_name)
    sys.modules.pop(our_name, None)
    try:
        importlib.import_module("sitecustomize")
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
        if ours is not None:
            sys.modules[our_name] = ours
