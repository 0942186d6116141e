"""The migration proxy and its in-process faces (issue 4).

One exchange flow (:mod:`.flow`: translate request → fulfil prerequisites → send → retry →
translate response → response-side prerequisites; a generator driven by a sync and an async
driver, its decisions in :class:`.migrator.Migrator`) behind three faces:

* the HTTP proxy — :class:`.app.ProxyApp` (ASGI on uvicorn, aiohttp upstream client),
  ``layer-migrate proxy``;
* an httpx transport — :class:`.httpx_transport.MigratingTransport` /
  :class:`.httpx_transport.AsyncMigratingTransport`;
* a requests adapter — :class:`.requests_adapter.MigratingAdapter`.

Imports are lazy so ``import layer_migrate.proxy`` costs nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AsyncMigratingTransport", "MigratingAdapter", "MigratingTransport", "Migrator", "ProxyApp",
           "ProxyConfig"]

_WHERE = {
    "ProxyApp": ".app",
    "ProxyConfig": ".config",
    "MigratingTransport": ".httpx_transport",
    "AsyncMigratingTransport": ".httpx_transport",
    "MigratingAdapter": ".requests_adapter",
    "Migrator": ".migrator",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'layer_migrate.proxy' has no attribute {name!r}")
