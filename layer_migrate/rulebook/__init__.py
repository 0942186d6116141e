"""The rulebook: what a rule author writes against (spec §14, R01–R54).

* :mod:`.rule` — :class:`Rule` (declarations, hooks, examples) and :class:`Example`;
* :mod:`.context` — the :class:`Context` hooks receive, steps (:data:`ALL_STEPS`);
* :mod:`.objects` — object kinds and where they appear in responses;
* :mod:`.helpers` — sender validation and identity/bot conversions hooks share;
* :mod:`.loader` — loading and checking rules (built-in :mod:`layer_migrate.rules`, ``--rules DIR``);
* :mod:`.docs` — ``layer-migrate rules`` and its ``--markdown`` migration guide.

It never imports the engine: rules depend on this package, the engine depends on both.
"""

from __future__ import annotations

from .context import ALL_STEPS, Context, Hook, ObjectHook, ObjectTranslator, Step, Way
from .docs import NOT_APPLICABLE, render_json, render_markdown, render_table
from .helpers import (
    bot_name,
    check_sender,
    fast_identity_id,
    fast_user_id,
    sender_from_v1,
    sender_to_v1,
)
from .loader import (
    RulebookError,
    builtin_rules_dir,
    check_rule,
    load_builtin_rules,
    load_rulebook,
    load_rules_from,
)
from .objects import OBJECT_KINDS, OBJECT_LOCATIONS, PATCH_ENDPOINTS, endpoints_returning
from .rule import Example, Rule, spec_number, step_label, step_rank

__all__ = [
    "ALL_STEPS", "NOT_APPLICABLE", "OBJECT_KINDS", "OBJECT_LOCATIONS", "PATCH_ENDPOINTS", "Context",
    "Example", "Hook", "ObjectHook", "ObjectTranslator", "Rule", "RulebookError", "Step", "Way",
    "bot_name", "builtin_rules_dir", "check_rule", "check_sender", "endpoints_returning",
    "fast_identity_id", "fast_user_id", "load_builtin_rules", "load_rulebook", "load_rules_from",
    "render_json", "render_markdown", "render_table", "sender_from_v1", "sender_to_v1",
    "spec_number", "step_label", "step_rank",
]
