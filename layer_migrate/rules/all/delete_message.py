"""R33 — ``DELETE …/messages/:mid`` is unchanged (204, or 404 ``not_found``) in every version.

Spec §5.7, §14.4 R33: only the Accept header moves (R02/R03).
"""

from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("v2.delete_message", spec="R33", step=ALL_STEPS, endpoints={"messages.delete"}, direction="both")

rule.example("request", None, None, endpoint="messages.delete", method="DELETE",
             path="/apps/A/conversations/C/messages/M",
             after_headers={"accept": "application/vnd.layer+json; version=3.0"}, after_method="DELETE",
             after_path="/apps/A/conversations/C/messages/M")
rule.example("response", None, None, endpoint="messages.delete", method="DELETE",
             path="/apps/A/conversations/C/messages/M", status=204, after_status=204, source="3.0", target="1.1")
