"""R20 — The 3.0-only conversation ``significance`` is removed for older consumers.

Spec §4.2/§4.3, §14.3 R20: v1 clients never send it (request: no-op). Lossy: 3.0-only data.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v3.conv.significance", spec="R20", step=("2.0", "3.0"), direction="response",
            lossy="drops the 3.0-only significance")
rule.object_field("conversation", "significance", "remove")

rule.example("conversation", {"id": "layer:///conversations/c", "significance": {"x": 1}, "distinct": True},
             {"id": "layer:///conversations/c", "distinct": True}, source="3.0", target="2.0")
