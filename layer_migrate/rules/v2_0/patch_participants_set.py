"""R17 — ``set`` participants to a list becomes ``set []`` followed by one ``add`` per user (2.0).

Spec §4.4, §14.3 R17: 2.0's ``set`` "can only be used to clear". Order relative to neighbouring
operations is kept; ``set []`` passes through. Lossy: same end state, but intermediate webhooks may
show an empty participant list (INFERRED).
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.patch.participants.set", spec="R17", step=("1.1", "2.0"),
            endpoints={"conversations.patch"}, direction="request",
            lossy="intermediate state: participants cleared then re-added")
rule.patch_op("participants", "set_to_clear_and_add")

rule.example("request",
             [{"operation": "set", "property": "participants", "value": ["user1", "user2"]}],
             [{"operation": "set", "property": "participants", "value": []},
              {"operation": "add", "property": "participants", "id": "layer:///identities/user1"},
              {"operation": "add", "property": "participants", "id": "layer:///identities/user2"}],
             endpoint="conversations.patch", method="PATCH", path="/apps/A/conversations/C",
             headers={"content-type": "application/vnd.layer-patch+json"})
