"""httpx: the default transports hand Layer-host requests to the migrating transports.

httpx's extension point for "how a request is sent" is the transport (``handle_request`` /
``handle_async_request``); every ``Client``/``AsyncClient`` — including the one behind
``httpx.get`` — sends through an :class:`httpx.HTTPTransport` / :class:`httpx.AsyncHTTPTransport`
unless given another transport. Wrapping those two documented methods on the class is the
narrowest point that covers clients created before and after ``install()``, and it keeps each
client's own transport settings (``verify``, ``cert``, ``proxy``, ``retries``, limits): the
migrating transport uses the client's transport instance as its inner transport, unhooked.

Not covered, by design: clients given a non-HTTP transport of their own (``MockTransport``, an
ASGI/WSGI transport) — nothing of theirs reaches the network.
"""

from __future__ import annotations

import threading
import weakref
from types import ModuleType
from typing import Any

from .patching import Patch

__all__ = ["HttpxFace", "hook_httpx"]


class _Unhooked:
    """A transport that calls the *original* ``handle_request`` of one HTTPTransport instance."""

    def __init__(self, transport: Any, original: Any) -> None:
        self.transport = transport
        self.original = original

    def handle_request(self, request: Any) -> Any:
        return self.original(self.transport, request)

    async def handle_async_request(self, request: Any) -> Any:
        return await self.original(self.transport, request)

    def close(self) -> None:  # the client owns its transport
        pass

    async def aclose(self) -> None:
        pass


class HttpxFace:
    """Per client transport, one :class:`~layer_migrate.proxy.MigratingTransport` (sync) or
    :class:`~layer_migrate.proxy.AsyncMigratingTransport` sharing the installation's loop state."""

    def __init__(self, installation: Any) -> None:
        self.installation = installation
        self._lock = threading.Lock()
        self._wrapped: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()

    def migrating(self, transport: Any, original: Any, asynchronous: bool) -> Any:
        mt = self._wrapped.get(transport)
        if mt is None:
            with self._lock:
                mt = self._wrapped.get(transport)
                if mt is None:
                    from ..proxy import AsyncMigratingTransport, MigratingTransport

                    cfg = self.installation.config
                    cls = AsyncMigratingTransport if asynchronous else MigratingTransport
                    mt = cls(cfg.to or "3.0", transport=_Unhooked(transport, original),  # type: ignore[arg-type]
                             upstream=cfg.upstream)
                    mt.migrator = self.installation.migrator
                    self._wrapped[transport] = mt
        return mt


def _ours(state: Any, request: Any) -> Any:
    inst = state.active
    if inst is None:
        return None
    url = request.url
    cfg = inst.config
    host = url.host  # httpx: lower-case
    if not cfg.may_match(host) or url.scheme not in ("http", "https") or not cfg.matches(host, url.port):
        return None
    return inst


def hook_httpx(module: ModuleType, state: Any) -> list[Patch]:
    """Wrap ``HTTPTransport.handle_request`` and ``AsyncHTTPTransport.handle_async_request``."""

    def make_sync(original: Any) -> Any:
        def handle_request(self: Any, request: Any) -> Any:
            inst = _ours(state, request)
            if inst is None:
                return original(self, request)
            return inst.httpx_face.migrating(self, original, False).handle_request(request)

        handle_request.__wrapped__ = original  # type: ignore[attr-defined]
        return handle_request

    def make_async(original: Any) -> Any:
        async def handle_async_request(self: Any, request: Any) -> Any:
            inst = _ours(state, request)
            if inst is None:
                return await original(self, request)
            return await inst.httpx_face.migrating(self, original, True).handle_async_request(request)

        handle_async_request.__wrapped__ = original  # type: ignore[attr-defined]
        return handle_async_request

    return [Patch.apply(module.HTTPTransport, "handle_request", make_sync),
            Patch.apply(module.AsyncHTTPTransport, "handle_async_request", make_async)]
