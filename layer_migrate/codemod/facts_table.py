"""What the codemod rewrites, as declared facts from the rulebook (with a local fallback).

The rulebook (``rules/``) is the single statement of *what* changed between versions; this module
reads each rule's declared :mod:`layer_migrate.facts` and indexes them the way the codemod looks
things up (by endpoint, by Layer-Patch property, by v1 route). Where the rulebook does not (yet)
declare a fact the codemod needs, :data:`FALLBACK_FACTS` supplies it — clearly local, keyed by the
spec's rule ids (§14), and only used for rule ids the rulebook does not declare facts for. The
final report of the codemod lists which fallback facts were used so the rulebook can catch up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..facts import Fact, FieldFact, MediaTypeFact, PatchOpFact, ResponseReadFact, RouteFact
from ..versions import PLATFORM_MEDIA_TYPE, STEPS, WEBHOOKS_MEDIA_TYPE

_CONV = frozenset({"conversations.create"})
_MSG = frozenset({"messages.send"})
_ANN = frozenset({"announcements.send"})
_NOTIF = frozenset({"notifications.send"})
_PATCH_CONV = frozenset({"conversations.patch"})
_PATCH_USER = frozenset({"users.patch"})
_V1_V2: tuple[str, str] = ("1.1", "2.0")

# --- LOCAL FALLBACK (not the rulebook) -------------------------------------------------------
#: Facts the codemod needs, per spec §14, used only for rule ids whose rule declares no facts
#: of that class. Each entry: (rule id, spec number, step, fact).
FALLBACK_FACTS: tuple[tuple[str, str, tuple[str, str], Fact], ...] = (
    ("hdr.accept.v2", "R02", _V1_V2, MediaTypeFact("hdr.accept.v2", PLATFORM_MEDIA_TYPE, ("1.0", "1.1"))),
    ("hdr.accept.v3", "R03", ("2.0", "3.0"), MediaTypeFact("hdr.accept.v3", PLATFORM_MEDIA_TYPE, ("1.0", "1.1", "2.0"))),
    ("wh.rest", "R53", _V1_V2, MediaTypeFact("wh.rest", WEBHOOKS_MEDIA_TYPE, ("1.0",))),
    ("v2.participants.identity_ids", "R14", _V1_V2,
     FieldFact("v2.participants.identity_ids", _CONV, "request", "participants[]", "identity_id")),
    ("v2.sender.user_id", "R21", _V1_V2,
     FieldFact("v2.sender.user_id", _MSG, "request", "sender.user_id", "identity_id", "sender_id")),
    ("v2.sender.name_to_bot", "R22", _V1_V2,
     FieldFact("v2.sender.name_to_bot", _MSG, "request", "sender.name", "bot_identity", "sender_id")),
    ("v2.notification.recipient", "R26", _V1_V2,
     FieldFact("v2.notification.recipient", _MSG | _ANN | _NOTIF, "request", "notification.recipients",
               "recipient_overrides")),
    ("v2.announcement.recipients", "R34", _V1_V2,
     FieldFact("v2.announcement.recipients", _ANN, "request", "recipients[]", "identity_id")),
    ("v2.announcement.sender", "R35", _V1_V2,
     FieldFact("v2.announcement.sender", _ANN, "request", "sender.name", "bot_identity", "sender_id")),
    ("v2.notifications.recipients", "R37", _V1_V2,
     FieldFact("v2.notifications.recipients", _NOTIF, "request", "recipients[]", "identity_id")),
    ("v2.patch.participants.add_remove", "R16", _V1_V2,
     PatchOpFact("v2.patch.participants.add_remove", _PATCH_CONV, "participants", "value_to_id")),
    ("v2.patch.participants.set", "R17", _V1_V2,
     PatchOpFact("v2.patch.participants.set", _PATCH_CONV, "participants", "set_to_clear_and_add")),
    ("v2.blocks.patch_value_to_id", "R40", _V1_V2,
     PatchOpFact("v2.blocks.patch_value_to_id", _PATCH_USER, "blocks", "value_to_id")),
    ("v2.blocks.set_list", "R41", _V1_V2,
     PatchOpFact("v2.blocks.set_list", _PATCH_USER, "blocks", "set_to_clear_and_add")),
    ("v2.blocks.post_to_patch", "R38", _V1_V2,
     RouteFact("v2.blocks.post_to_patch", "blocks.create", "users.patch", "PATCH",
               "application/vnd.layer-patch+json", "blocks", "add", "body.user_id", (204, 202))),
    ("v2.blocks.delete_to_patch", "R39", _V1_V2,
     RouteFact("v2.blocks.delete_to_patch", "blocks.delete", "users.patch", "PATCH",
               "application/vnd.layer-patch+json", "blocks", "remove", "path.blocked", (204, 202))),
    ("v2.recipient_status.keys", "R25", _V1_V2,
     ResponseReadFact("v2.recipient_status.keys", _MSG | frozenset({"messages.get", "messages.list"}),
                      "recipient_status{}", "keys are identity ids: index with the identity id of the user")),
    ("v2.participants.basic_identity", "R15", _V1_V2,
     ResponseReadFact("v2.participants.basic_identity", _CONV | frozenset({"conversations.get"}),
                      "participants[]", "participants are BasicIdentity objects: read p[\"user_id\"]")),
    ("v2.sender.basic_identity", "R24", _V1_V2,
     ResponseReadFact("v2.sender.basic_identity", _MSG | frozenset({"messages.get", "messages.list"}),
                      "sender.name", "sender is a BasicIdentity: v1 sender.name (bots) is display_name, "
                      "and is null-equivalent for users only in v1")),
)

#: R50 upgrade direction (webhook registration of a v1 consumer): 1.0 event names → 2.0/3.0 names.
#: The rulebook's ``wh.event_names`` rule registers code, not data, so the table lives here.
WEBHOOK_EVENTS_UP: dict[str, str] = {
    "message.sent": "Message.created",
    "message.delivered": "Receipt.created",
    "message.read": "Receipt.created",
    "message.deleted": "Message.deleted",
    "conversation.created": "Conversation.created",
    "conversation.updated.participants": "Conversation.updated",
    "conversation.updated.metadata": "Conversation.updated",
    "conversation.deleted": "Conversation.deleted",
}
# --- end of local fallback ---------------------------------------------------------------------

#: Rules that only run when named with ``--enable`` (the webhooks API is versioned separately:
#: a v1 webhook consumer behind the proxy keeps its 1.0 registration).
OPT_IN_RULES: frozenset[str] = frozenset({"wh.rest"})


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
    fallback_used: list[str] = field(default_factory=list)

    def spec_of(self, rule_id: str) -> str:
        info = self.rules.get(rule_id)
        return info.spec if info else ""

    def enabled(self, rule_id: str) -> bool:
        return rule_id in self.rules


def _crosses(step: tuple[str, str], target: str) -> bool:
    """True when upgrading a v1 (1.1) client to ``target`` crosses ``step`` (1.0→1.1 never:
    the codemod writes the target version directly)."""
    order = [s[1] for s in STEPS]  # "1.1", "2.0", "3.0"
    if step[0] == "1.0" or target not in order:
        return False
    return order.index(step[1]) <= order.index(target)


def build_index(target: str, disabled: Iterable[str] = (), enabled: Iterable[str] = (),
                rules: list | None = None) -> FactIndex:
    """Index the facts of every rule crossed going from 1.x to ``target``.

    ``rules`` defaults to :func:`layer_migrate.rulebook.load_rulebook`; when the rulebook cannot be
    loaded (not built yet) only the fallback table is used.
    """
    disabled = set(disabled)
    enabled = set(enabled)
    idx = FactIndex(target=target)
    declared: dict[str, list[Fact]] = {}
    meta: dict[str, RuleInfo] = {}
    if rules is None:
        try:
            from ..rulebook import load_rulebook

            rules = load_rulebook()
        except Exception:  # rulebook not importable yet: fall back entirely
            rules = []
    for r in rules:
        meta[r.id] = RuleInfo(r.id, r.spec, tuple(r.step))
        declared[r.id] = list(r.facts)
    covered = {(ep, f.path) for fs in declared.values() for f in fs
               if isinstance(f, FieldFact) and f.direction == "request" for ep in f.endpoints}
    for rule_id, spec, step, fact in FALLBACK_FACTS:
        have = declared.get(rule_id, [])
        if isinstance(fact, FieldFact):  # only endpoints no rule already states this field for
            missing = frozenset(ep for ep in fact.endpoints if (ep, fact.path) not in covered)
            if not missing:
                meta.setdefault(rule_id, RuleInfo(rule_id, spec, step))
                continue
            fact = FieldFact(fact.rule, missing, fact.direction, fact.path, fact.action, fact.to)
        if not any(type(f) is type(fact) for f in have):
            declared.setdefault(rule_id, []).append(fact)
            idx.fallback_used.append(f"{rule_id}:{type(fact).__name__}")
        meta.setdefault(rule_id, RuleInfo(rule_id, spec, step))
    for rule_id, facts in declared.items():
        info = meta[rule_id]
        if rule_id in disabled or (rule_id in OPT_IN_RULES and rule_id not in enabled):
            continue
        if not _crosses(info.step, target):
            continue
        idx.rules[rule_id] = info
        for f in facts:
            if isinstance(f, FieldFact) and f.direction == "request":
                for ep in f.endpoints:
                    idx.fields.setdefault(ep, []).append(f)
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
    # The Accept header is written as the target version by the rule of the last step; with that
    # rule disabled the header is left alone (not half-upgraded to an intermediate version).
    platform = idx.media_types.get(PLATFORM_MEDIA_TYPE)
    if platform is not None and idx.rules[platform.rule].step[1] != target:
        del idx.media_types[PLATFORM_MEDIA_TYPE]
    return idx
