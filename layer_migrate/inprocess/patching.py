"""Reversible attribute patches and post-import hooks — the only two tricks the installation uses.

*Patch*: one class attribute replaced by a wrapper, restored on uninstall **only if it is still
our wrapper** (another tool — an APM agent, a test double — may have wrapped it after us; tearing
theirs out would be worse than leaving ours, which passes everything through once uninstalled).

*Post-import hook*: ``layer-migrate run`` installs before the program's first import, and must not
import requests, httpx and aiohttp itself (that costs start-up time and changes import order, which
breaks e.g. gevent's monkey-patching). So a library that is not imported yet gets hooked right
after its own module body has run, by a ``sys.meta_path`` finder that wraps the loader's
``exec_module`` (the pattern of ``wrapt``'s post-import hooks / PEP 369).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["Patch", "PostImportHooks", "post_import_hooks"]


@dataclass
class Patch:
    """``owner.name`` replaced by ``wrapper``; ``original`` is what was there."""

    owner: Any
    name: str
    original: Any
    wrapper: Any

    @classmethod
    def apply(cls, owner: Any, name: str, make: Callable[[Any], Any]) -> Patch:
        original = owner.__dict__[name] if name in getattr(owner, "__dict__", {}) else getattr(owner, name)
        wrapper = make(original)
        setattr(owner, name, wrapper)
        return cls(owner, name, original, wrapper)

    def restore(self) -> bool:
        """Put the original back; False (and leave things be) when someone wrapped us since."""
        current = self.owner.__dict__.get(self.name) if hasattr(self.owner, "__dict__") else None
        if current is not self.wrapper:
            return False
        setattr(self.owner, self.name, self.original)
        return True


class PostImportHooks(importlib.abc.MetaPathFinder):
    """Run callbacks once right after a named module has been executed."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[[ModuleType], None]]] = {}
        self._finding: set[str] = set()
        self._lock = threading.RLock()

    def register(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        """Call ``callback(module)`` now when ``name`` is imported already, else after its import."""
        with self._lock:
            module = sys.modules.get(name)
            if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
                self._callbacks.setdefault(name, []).append(callback)
                if self not in sys.meta_path:
                    sys.meta_path.insert(0, self)
                return
        callback(module)

    def unregister(self, callbacks: Sequence[Callable[[ModuleType], None]]) -> None:
        with self._lock:
            for name in list(self._callbacks):
                self._callbacks[name] = [c for c in self._callbacks[name] if c not in callbacks]
                if not self._callbacks[name]:
                    del self._callbacks[name]
            if not self._callbacks and self in sys.meta_path:
                sys.meta_path.remove(self)

    def pending(self) -> list[str]:
        with self._lock:
            return sorted(self._callbacks)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._callbacks or fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:  # ask the rest of sys.meta_path (we are skipped while _finding holds the name)
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.discard(fullname)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        original_exec = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            try:
                original_exec(module)
            finally:
                if loader.__dict__.get("exec_module") is exec_module:
                    del loader.exec_module
            self._fire(fullname, module)

        loader.exec_module = exec_module  # per-module loader instance (SourceFileLoader)
        return spec

    def _fire(self, name: str, module: ModuleType) -> None:
        with self._lock:
            callbacks = self._callbacks.pop(name, [])
            if not self._callbacks and self in sys.meta_path:
                sys.meta_path.remove(self)
        for cb in callbacks:
            cb(module)


#: The process-wide hook registry (one finder on ``sys.meta_path`` at most).
post_import_hooks = PostImportHooks()
