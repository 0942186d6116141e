"""R39 — v1 ``DELETE /users/:owner/blocks/:U`` becomes a Layer-Patch ``remove`` on ``PATCH /users/:owner``.

Spec §9, §14.6 R39: the path's ``:U`` arrives percent-encoded and is decoded before ``ID()``;
``202`` → ``204``. Lossy: applied asynchronously.
"""

from layer_migrate.rulebook import Rule
from layer_migrate.versions import PATCH_MEDIA_TYPE

rule = Rule("v2.blocks.delete_to_patch", spec="R39", step=("1.1", "2.0"), endpoints={"blocks.delete"},
            direction="both", lossy="applied asynchronously upstream (202)")
rule.route(from_endpoint="blocks.delete", to_endpoint="users.patch", to_method="PATCH",
           content_type=PATCH_MEDIA_TYPE, property="blocks", body_op="remove", user_from="path.blocked",
           status_map=(204, 202))

rule.example("request", None,
             [{"operation": "remove", "property": "blocks", "id": "layer:///identities/namespace%2F12345"}],
             endpoint="blocks.delete", method="DELETE", path="/apps/A/users/o%2F1/blocks/namespace%2F12345",
             after_method="PATCH", after_path="/apps/A/users/o%2F1",
             after_headers={"content-type": "application/vnd.layer-patch+json"})
rule.example("response", None, None, endpoint="blocks.delete", method="DELETE",
             path="/apps/A/users/owner/blocks/x", status=202, after_status=204, source="2.0", target="1.0")
