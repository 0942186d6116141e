"""``layer_migrate.proxy.asgi:app`` — the proxy for any ASGI server, configured by environment.

``LAYER_MIGRATE_PROXY_UPSTREAM=https://api.layer.com hypercorn layer_migrate.proxy.asgi:app`` or
``gunicorn -k uvicorn.workers.UvicornWorker layer_migrate.proxy.asgi:app``: settings come from
``LAYER_MIGRATE_PROXY_*`` variables (and ``LAYER_MIGRATE_PROXY_CONFIG_FILE``), checked as the CLI
checks them. Servers that take a factory can use ``layer_migrate.proxy.app:create_app`` instead.
With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory so
``/-/metrics`` aggregates them.
"""

from __future__ import annotations

from .app import create_app

app = create_app()
