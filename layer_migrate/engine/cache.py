"""The engine's one cache policy: a dict that empties itself when it reaches its bound.

Every memo on the translation path (routes, client versions, Accept phases, rebuilt paths, identity
ids) keys on values that repeat across requests but are chosen by clients, so each must be bounded.
Clearing when full (rather than LRU bookkeeping) keeps a hit a plain ``dict.get``: the hot path pays
nothing for the bound, and a flood of distinct keys costs one refill. Compiled pipelines are keyed
by (endpoint, versions) — a finite set — and use the same class with a bound nothing reaches.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["Memo"]


class Memo(dict[K, V], Generic[K, V]):
    """``dict`` with :meth:`put`, which clears the whole memo first when it holds ``limit`` keys."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
