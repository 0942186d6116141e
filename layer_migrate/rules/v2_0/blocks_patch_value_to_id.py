"""R40 — Block-list PATCH add/remove carry the identity id in ``id`` (2.0).

Spec §9.1/§9.2, §14.6 R40: on ``PATCH /apps/:app/users/:owner`` operations on ``blocks`` with
``value: U`` → ``id: ID(U)``; other operations (``suspended``) unchanged. Response 202 unchanged.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.blocks.patch_value_to_id", spec="R40", step=("1.1", "2.0"), endpoints={"users.patch"},
            direction="request")
rule.patch_op("blocks", "value_to_id")

rule.example("request",
             [{"operation": "add", "property": "blocks", "value": "blockMe1"},
              {"operation": "remove", "property": "blocks", "value": "unblockMe"},
              {"operation": "set", "property": "suspended", "value": True}],
             [{"operation": "add", "property": "blocks", "id": "layer:///identities/blockMe1"},
              {"operation": "remove", "property": "blocks", "id": "layer:///identities/unblockMe"},
              {"operation": "set", "property": "suspended", "value": True}],
             endpoint="users.patch", method="PATCH", path="/apps/A/users/owner",
             headers={"content-type": "application/vnd.layer-patch+json"})
