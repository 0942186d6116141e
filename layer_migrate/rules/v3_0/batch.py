"""R31 — Batch and delayed sends answer ``202 Accepted``; the status passes through.

Spec §5.5/§5.6, §14.4 R31: v1 never sends arrays (request no-op); a delayed single message is
``202`` too (OBS v3; INFERRED for 1.x, whose docs state no status).
"""

from layer_migrate.rulebook import Rule

rule = Rule("v3.batch", spec="R31", step=("2.0", "3.0"), endpoints={"messages.send"}, direction="response")

rule.example("response", None, None, endpoint="messages.send", method="POST",
             path="/apps/A/conversations/C/messages", status=202, after_status=202, source="3.0", target="1.1")
