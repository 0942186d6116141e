"""R51 — The webhook actor: top-level (2.0 published/3.0) or ``event.actor`` BasicIdentity → 1.0 ``event.actor``.

Spec §12.1/§12.3, §14.8 R51: ``{"user_id": UID(a)}``, or ``{"name": N}`` for bots and name-only
senders (R24 logic), omitted when absent. Lossy: profile fields dropped.
"""

from layer_migrate.rulebook import Rule

rule = Rule("wh.actor", spec="R51", step=("1.1", "2.0"), endpoints=(), direction="webhook",
            lossy="drops the actor's profile fields")
rule.webhook("actor")

_EV = {"created_at": "2017-10-01T00:00:00Z", "id": "3f1c0f2e-0000-4000-8000-000000000002"}
_CONV = {"id": "layer:///conversations/c", "participants": [], "distinct": False, "metadata": {}}
rule.example("delivery",
             {"type": "Conversation.deleted",
              "body": {"event": {**_EV, "type": "Conversation.deleted"}, "conversation": _CONV,
                       "actor": {"id": "layer:///identities/12345", "url": "u", "user_id": "12345",
                                 "display_name": "D", "avatar_url": None}}},
             [{"type": "conversation.deleted",
               "body": {"event": {**_EV, "type": "conversation.deleted", "actor": {"user_id": "12345"}},
                        "conversation": _CONV}}])
