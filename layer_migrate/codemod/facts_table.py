"""What the codemod rewrites, as declared facts from the rulebook.

The rulebook (``rules/``) is the single statement of *what* changed between versions; this module
reads each rule's declared :mod:`layer_migrate.facts` and indexes them the way the codemod looks
things up (by endpoint, by Layer-Patch property, by v1 route). There is no second copy here: a
change the codemod should know about is declared on its rule, and the engine applies the same fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..facts import Fact, FieldFact, MediaTypeFact, PatchOpFact, ResponseReadFact, RouteFact
from ..versions import PLATFORM_MEDIA_TYPE, STEPS, WEBHOOKS_MEDIA_TYPE


def _webhook_rest_rules(rules: Iterable) -> frozenset[str]:
    """Rules that change the webhooks media type (R53): opt-in, because the webhooks API is
    versioned separately and a v1 webhook consumer behind the proxy keeps its 1.0 registration."""
    out = set()
    for r in rules:
        media = {f.media_type for f in r.facts if isinstance(f, MediaTypeFact)}
        if media == {WEBHOOKS_MEDIA_TYPE}:
            out.add(r.id)
    return frozenset(out)


def _default_rules() -> list:
    from ..rulebook import load_rulebook

    return list(load_rulebook())


#: Rules that only run when named with ``--enable`` (read off the rulebook's facts, no ids here).
OPT_IN_RULES: frozenset[str] = _webhook_rest_rules(_default_rules())


@dataclass
class RuleInfo:
    id: str
    spec: str
    step: tuple[str, str]


@dataclass
class FactIndex:
    """The facts that apply for one target version, indexed for the transformer."""

    target: str
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    fields: dict[str, list[FieldFact]] = field(default_factory=dict)  # endpoint → facts
    patch_ops: dict[str, list[PatchOpFact]] = field(default_factory=dict)  # property → facts
    routes: dict[str, RouteFact] = field(default_factory=dict)  # from_endpoint → fact
    media_types: dict[str, MediaTypeFact] = field(default_factory=dict)  # media type → fact
    reads: dict[str, ResponseReadFact] = field(default_factory=dict)  # rule id → fact
    #: response field (first path segment, e.g. ``participants``) → rule id: code that reads it
    #: gets the 1.x shape back at the parse site (ResponseReadFact, or a response FieldFact that
    #: turns a list of identities back into user ids, e.g. announcement ``recipients``)
    read_fields: dict[str, str] = field(default_factory=dict)
    #: rule id of the opt-in webhooks REST rule when enabled (R53), else None
    webhook_rest: str | None = None

    def spec_of(self, rule_id: str) -> str:
        info = self.rules.get(rule_id)
        return info.spec if info else ""

    def enabled(self, rule_id: str) -> bool:
        return rule_id in self.rules

    def read_rule(self, field_name: str) -> str | None:
        """The rule for code reading ``field_name`` of a response, if that shape changed."""
        return self.read_fields.get(field_name)

    @property
    def accept_rule(self) -> str | None:
        """The rule that writes the platform Accept version (hdr.accept.v2/v3), if enabled."""
        fact = self.media_types.get(PLATFORM_MEDIA_TYPE)
        return fact.rule if fact is not None else None


def _crosses(step: tuple[str, str], target: str) -> bool:
    """True when upgrading a v1 (1.1) client to ``target`` crosses ``step`` (1.0→1.1 never:
    the codemod writes the target version directly)."""
    order = [s[1] for s in STEPS]  # "1.1", "2.0", "3.0"
    if step[0] == "1.0" or target not in order:
        return False
    return order.index(step[1]) <= order.index(target)


def build_index(target: str, disabled: Iterable[str] = (), enabled: Iterable[str] = (),
                rules: list | None = None, only: Iterable[str] = ()) -> FactIndex:
    """Index the facts of every rule crossed going from 1.x to ``target`` (with ``only``: of
    those rules alone — an opt-in rule named there counts as enabled).

    ``rules`` defaults to :func:`layer_migrate.rulebook.load_rulebook`.
    """
    disabled = set(disabled)
    only = set(only)
    enabled = set(enabled) | only
    idx = FactIndex(target=target)
    declared: dict[str, list[Fact]] = {}
    meta: dict[str, RuleInfo] = {}
    if rules is None:
        rules = _default_rules()
    opt_in = _webhook_rest_rules(rules)
    for r in rules:
        meta[r.id] = RuleInfo(r.id, r.spec, tuple(r.step))
        declared[r.id] = list(r.facts)
    for rule_id, facts in declared.items():
        info = meta[rule_id]
        if rule_id in disabled or (rule_id in opt_in and rule_id not in enabled) or (only and rule_id not in only):
            continue
        if not _crosses(info.step, target):
            continue
        idx.rules[rule_id] = info
        for f in facts:
            if isinstance(f, FieldFact) and f.direction == "request":
                for ep in f.endpoints:
                    idx.fields.setdefault(ep, []).append(f)
            elif isinstance(f, FieldFact) and f.action == "user_id" and f.path.endswith("[]") \
                    and "." not in f.path:
                idx.read_fields.setdefault(f.path[:-2], rule_id)
            elif isinstance(f, PatchOpFact):
                idx.patch_ops.setdefault(f.property, []).append(f)
            elif isinstance(f, RouteFact):
                idx.routes[f.from_endpoint] = f
            elif isinstance(f, MediaTypeFact):
                # The webhooks API is versioned on its own (spec §12): its media type changes only
                # under the webhooks REST rule (R53), never as a side effect of R02/R03.
                if f.media_type == WEBHOOKS_MEDIA_TYPE and info.spec != "R53":
                    continue
                # one pattern per media type: every version any crossed step rewrites, tagged
                # with the newest step's rule (hdr.accept.v3 for a 3.0 target)
                prev = idx.media_types.get(f.media_type)
                versions = tuple(sorted(set(f.from_versions) | set(prev.from_versions if prev else ())))
                newest = f.rule if prev is None or STEPS.index(info.step) >= STEPS.index(
                    idx.rules[prev.rule].step) else prev.rule
                idx.media_types[f.media_type] = MediaTypeFact(newest, f.media_type, versions)
            elif isinstance(f, ResponseReadFact):
                idx.reads[f.rule] = f
                idx.read_fields[re.split(r"[.\[{]", f.path, maxsplit=1)[0]] = f.rule
        if rule_id in opt_in:
            idx.webhook_rest = rule_id
    # The Accept header is written as the target version by the rule of the last step; with that
    # rule disabled the header is left alone (not half-upgraded to an intermediate version).
    platform = idx.media_types.get(PLATFORM_MEDIA_TYPE)
    if platform is not None and idx.rules[platform.rule].step[1] != target:
        del idx.media_types[PLATFORM_MEDIA_TYPE]
    return idx
