"""R28 — v1/v2 send requests carry no part ids; they pass through and 3.0 generates UUIDs.

Spec §5.2/§5.4, §14.4 R28: lossless no-op, listed so the guide says why nothing happens.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v3.part_ids.request", spec="R28", step=("2.0", "3.0"), endpoints={"messages.send"},
            direction="request")

rule.example("request", {"sender_id": "layer:///identities/u", "parts": [{"body": "x", "mime_type": "text/plain"}]},
             {"sender_id": "layer:///identities/u", "parts": [{"body": "x", "mime_type": "text/plain"}]},
             endpoint="messages.send", method="POST", path="/apps/A/conversations/C/messages",
             source="2.0", target="3.0")
