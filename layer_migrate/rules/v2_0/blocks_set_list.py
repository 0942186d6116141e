"""R41 — ``set`` blocks to a list becomes ``set []`` + one ``add`` per user (2.0).

Spec §9, §14.6 R41 (as R17): ``set []`` passes through. Lossy only in the intermediate state.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.blocks.set_list", spec="R41", step=("1.1", "2.0"), endpoints={"users.patch"},
            direction="request", lossy="intermediate state: block list cleared then re-filled")
rule.patch_op("blocks", "set_to_clear_and_add")

rule.example("request", [{"operation": "set", "property": "blocks", "value": ["blockMe1", "blockMe2"]}],
             [{"operation": "set", "property": "blocks", "value": []},
              {"operation": "add", "property": "blocks", "id": "layer:///identities/blockMe1"},
              {"operation": "add", "property": "blocks", "id": "layer:///identities/blockMe2"}],
             endpoint="users.patch", method="PATCH", path="/apps/A/users/owner",
             headers={"content-type": "application/vnd.layer-patch+json"})
rule.example("request", [{"operation": "set", "property": "blocks", "value": []}],
             [{"operation": "set", "property": "blocks", "value": []}],
             endpoint="users.patch", method="PATCH", path="/apps/A/users/owner",
             headers={"content-type": "application/vnd.layer-patch+json"})
