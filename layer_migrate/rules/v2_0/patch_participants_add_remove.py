"""R16 — Participant add/remove operations carry the identity id in ``id`` (2.0).

Spec §4.4, §14.3 R16: ``{"operation":"add","property":"participants","value":"u"}`` →
``{"operation":"add","property":"participants","id":ID(u)}`` (``value`` dropped). Metadata
operations are untouched (a ``user_id`` inside metadata is opaque data). Lossless.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.patch.participants.add_remove", spec="R16", step=("1.1", "2.0"),
            endpoints={"conversations.patch"}, direction="request")
rule.patch_op("participants", "value_to_id")

rule.example("request",
             [{"operation": "add", "property": "participants", "value": "user1"},
              {"operation": "remove", "property": "participants", "value": "user2"},
              {"operation": "set", "property": "metadata.admin", "value": {"user_id": "fred"}}],
             [{"operation": "add", "property": "participants", "id": "layer:///identities/user1"},
              {"operation": "remove", "property": "participants", "id": "layer:///identities/user2"},
              {"operation": "set", "property": "metadata.admin", "value": {"user_id": "fred"}}],
             endpoint="conversations.patch", method="PATCH", path="/apps/A/conversations/C",
             headers={"content-type": "application/vnd.layer-patch+json"})
