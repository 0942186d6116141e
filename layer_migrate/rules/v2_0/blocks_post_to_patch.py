"""R38 — v1 ``POST /users/:owner/blocks {"user_id"}`` becomes a Layer-Patch ``PATCH /users/:owner``.

Spec §9, §13a, §14.6 R38: 2.0 removed the block-list POST. The request becomes
``PATCH /apps/:app/users/:owner`` with ``Content-Type: application/vnd.layer-patch+json`` and
``[{"operation":"add","property":"blocks","id":ID(U)}]``; the answer ``202`` (asynchronous)
becomes the v1 ``204``. A missing ``user_id`` is refused with the v1 ``422 missing_property``.
Lossy: the block now takes effect asynchronously.
"""

from layer_migrate.rulebook import Rule
from layer_migrate.versions import PATCH_MEDIA_TYPE

rule = Rule("v2.blocks.post_to_patch", spec="R38", step=("1.1", "2.0"), endpoints={"blocks.create"},
            direction="both", lossy="applied asynchronously upstream (202)")
rule.route(from_endpoint="blocks.create", to_endpoint="users.patch", to_method="PATCH",
           content_type=PATCH_MEDIA_TYPE, property="blocks", body_op="add", user_from="body.user_id",
           status_map=(204, 202))

rule.example("request", {"user_id": "blockme987"},
             [{"operation": "add", "property": "blocks", "id": "layer:///identities/blockme987"}],
             endpoint="blocks.create", method="POST", path="/apps/A/users/owner/blocks",
             after_method="PATCH", after_path="/apps/A/users/owner",
             after_headers={"content-type": "application/vnd.layer-patch+json"})
rule.example("request", {}, error="missing_property", endpoint="blocks.create", method="POST",
             path="/apps/A/users/owner/blocks")
rule.example("response", None, None, endpoint="blocks.create", method="POST",
             path="/apps/A/users/owner/blocks", status=202, after_status=204, source="3.0", target="1.1")
