"""R30 — 3.0 message edits (``MessagePart.*`` events, ``Message.updated`` edits) have no v1 form.

Spec §5.4/§12.3, §14.4 R30: dropped for 1.0 (and 2.0) consumers with a reason; a consumer that
must see edits re-reads the message. Lossy.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v3.message.edits", spec="R30", step=("2.0", "3.0"), endpoints=(), direction="webhook",
            lossy="message edits are not delivered to v1 consumers")
rule.webhook("drop_events", events=("MessagePart.*",))
rule.webhook("edit_events", events=("Message.updated",))

rule.example("delivery", {"type": "MessagePart.updated", "body": {"event": {"type": "MessagePart.updated"},
                                                                    "message_part": {"id": "x"}}}, [])
rule.example("delivery", {"type": "Message.updated", "body": {"event": {"type": "Message.updated"},
                                                                "message": {"id": "layer:///messages/m"}}}, [])
