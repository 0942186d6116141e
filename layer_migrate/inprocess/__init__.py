"""No-code-change migration: ``layer_migrate.install()`` and ``layer-migrate run`` (issue 10).

A legacy service whose Layer calls are buried in code it will not touch (often a pip-installed
SDK such as ``LayerClient``) keeps making v1 calls; after ``install()`` every request the process
sends to a Layer host through requests, httpx or aiohttp runs through the same exchange loop as
the migration proxy (translate up → prerequisites → send → translate down)::

    import layer_migrate
    layer_migrate.install("3.0", upstream="https://staging.example.net")

or, with no change to the program at all::

    layer-migrate run --to 3.0 -- gunicorn app:wsgi

One module per job: :mod:`.config` (validated settings, env form), :mod:`.installation`
(install/uninstall, fork safety), :mod:`.requests_hook` / :mod:`.httpx_hook` /
:mod:`.aiohttp_hook` (one library each), :mod:`.patching` (reversible patches, post-import
hooks), :mod:`.record` (DEBUG log, summary), :mod:`.boot` + ``site/sitecustomize.py`` and
:mod:`.run` (the ``run`` subcommand). See ``docs/inprocess.md``.
"""

from __future__ import annotations

from .config import InstallConfig, InstallError
from .installation import Installation, current, install, uninstall

__all__ = ["InstallConfig", "InstallError", "Installation", "current", "install", "uninstall"]
