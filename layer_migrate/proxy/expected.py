"""Which response-side rules an endpoint's answers need at a target version — without asking it.

Report-only mode forwards traffic unchanged to a v1-capable upstream, so no newer-version answer
ever passes through the proxy; yet a team planning the cut-over needs to know that a v1 ``GET`` of
a conversation depends on participants becoming BasicIdentity objects, recipient_status keys and
part ids, not only on its three Accept rules. This module reads that from what the rules
*declare*: their step, ``direction``, ``endpoints`` and the object kinds their facts and object
hooks concern, located in responses by :data:`layer_migrate.rulebook.OBJECT_LOCATIONS`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..rulebook import OBJECT_LOCATIONS, Rule

#: Objects embedded in other objects' answers (a conversation's ``last_message``, a message's
#: sender identity), so a rule on the inner kind concerns the outer endpoints too.
NESTED: dict[str, tuple[str, ...]] = {
    "conversation": ("message", "identity"),
    "message": ("identity",),
    "announcement": ("identity",),
}


def kinds_at(endpoint: str) -> frozenset[str]:
    """Object kinds that can appear in ``endpoint``'s response bodies, nested ones included."""
    out: set[str] = set()
    todo = [k for k, _ in OBJECT_LOCATIONS.get(endpoint, ())]
    while todo:
        k = todo.pop()
        if k not in out:
            out.add(k)
            todo.extend(NESTED.get(k, ()))
    return frozenset(out)


def _rule_kinds(rule: Rule) -> frozenset[str]:
    kinds = {k for k, _ in rule.object_facts}
    kinds.update(k for (k, way) in rule.object_hooks if way == "down")
    return frozenset(kinds)


def concerns_response(rule: Rule, endpoint: str, kinds: frozenset[str]) -> bool:
    """Whether ``rule`` is declared to act on answers of ``endpoint``."""
    if rule.direction not in ("response", "both"):
        return False
    if endpoint in rule.endpoints:
        return True
    if rule.endpoints and "*" not in rule.endpoints:
        return False  # declared for other endpoints only
    if _rule_kinds(rule) & kinds:
        return True
    if "*" in rule.endpoints:
        # every-endpoint rules that are about answers (nulls, error bodies), not header rules
        return rule.direction == "response"
    return not rule.endpoints and rule.direction == "response" and not _rule_kinds(rule)


def response_rules(engine: Any, endpoint: str | None, upstream_version: str,
                   client_version: str) -> tuple[str, ...]:
    """Rule ids the answers of ``endpoint`` need translating ``upstream_version → client_version``
    (in the engine's order), from declarations only."""
    if endpoint is None or upstream_version == client_version:
        return ()
    return _cached(engine, endpoint, upstream_version, client_version)


@lru_cache(maxsize=4096)
def _cached(engine: Any, endpoint: str, upstream: str, client: str) -> tuple[str, ...]:
    kinds = kinds_at(endpoint)
    out: list[str] = []
    for _step, rule in engine._rules_for(upstream, client):
        if concerns_response(rule, endpoint, kinds) and rule.id not in out:
            out.append(rule.id)
    return tuple(out)


def engine_of(migrator_engine: Any) -> Any:
    """The :class:`~layer_migrate.engine.Engine` behind a migrator's ``engine`` (the module's
    default engine, or an injected instance)."""
    if hasattr(migrator_engine, "_rules_for"):
        return migrator_engine
    return migrator_engine.default_engine()
