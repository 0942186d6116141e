"""requests: every Session's ``get_adapter`` answers the migrating adapter for the Layer hosts.

Transport adapters are requests' extension point for "how a request is sent", and
``Session.get_adapter(url)`` is the one documented method that picks the adapter for a URL — used
by ``Session.send`` for every request, including the throw-away Session behind module-level
``requests.request``/``requests.get`` (how the LayerClient SDK calls). Wrapping it on the class
covers sessions created before and after ``install()``; mounting on construction would miss the
former, and a ``mount`` prefix (``https://api.layer.com``) would also match
``https://api.layer.com.example.net``, so the host is compared exactly instead.

Trade-off, documented: for the Layer hosts the installation's adapter replaces the one the session
would have used (a custom adapter mounted for ``https://`` is bypassed for those hosts only).
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from .patching import Patch

__all__ = ["RequestsFace", "hook_requests"]


class RequestsFace:
    """One :class:`~layer_migrate.proxy.MigratingAdapter` per installation (and per process)."""

    def __init__(self, installation: Any) -> None:
        self.installation = installation
        self._lock = threading.Lock()
        self._adapter: Any = None

    @property
    def adapter(self) -> Any:
        adapter = self._adapter
        if adapter is None:
            with self._lock:
                if self._adapter is None:
                    from ..proxy import MigratingAdapter

                    cfg = self.installation.config
                    a = MigratingAdapter(cfg.to or "3.0", upstream=cfg.upstream)
                    a.migrator = self.installation.migrator  # one loop state for every face
                    self._adapter = a
                adapter = self._adapter
        return adapter

    def reset_after_fork(self) -> None:
        """The parent's pooled sockets must not be shared by a forked child: start a new pool."""
        self._lock = threading.Lock()
        self._adapter = None

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None


def hook_requests(module: ModuleType, state: Any) -> list[Patch]:
    """Wrap ``requests.Session.get_adapter``; ``state.active`` is read on every call."""
    session_cls = module.Session

    def make(original: Any) -> Any:
        def get_adapter(self: Any, url: str) -> Any:
            inst = state.active
            if inst is not None and inst.config.may_be_in(url):
                scheme: str | None
                host: str | None
                port: int | None
                try:
                    parts = urlsplit(url)
                    scheme, host, port = parts.scheme, parts.hostname, parts.port
                except ValueError:  # unparsable URL: not ours, requests reports it as usual
                    scheme = host = port = None
                if scheme in ("http", "https") and inst.config.matches(host, port):
                    return inst.requests_face.adapter
            return original(self, url)

        get_adapter.__wrapped__ = original  # type: ignore[attr-defined]
        get_adapter.__doc__ = original.__doc__
        return get_adapter

    return [Patch.apply(session_cls, "get_adapter", make)]
