"""R42 — The block list is an array of BasicIdentity (2.0); v1 sees ``[{"user_id": U}]``.

Spec §9.1/§9.2, §14.6 R42: ``GET /apps/:app/users/:owner/blocks``. Lossy: profile fields dropped.
"""

from typing import Any

from layer_migrate.identity import identity_id, user_id_of
from layer_migrate.rulebook import Context, Rule

rule = Rule("v2.blocks.list_response", spec="R42", step=("1.1", "2.0"), endpoints={"blocks.list"},
            direction="response", lossy="drops the blocked users' profile fields")


@rule.object_down("block")
def to_v1(item: dict[str, Any], ctx: Context) -> Any:
    if set(item) == {"user_id"}:
        return item
    return {"user_id": user_id_of(item)}


@rule.object_up("block")
def from_v1(item: dict[str, Any], ctx: Context) -> Any:
    if "id" in item or not isinstance(item.get("user_id"), str):
        return item
    return {"id": identity_id(item["user_id"]), "user_id": item["user_id"]}


rule.example("response",
             [{"id": "layer:///identities/abc1234", "user_id": "abc1234", "url": "https://x",
               "display_name": "ABC", "avatar_url": ""},
              {"id": "layer:///identities/def5678", "user_id": None, "display_name": "D"}],
             [{"user_id": "abc1234"}, {"user_id": "def5678"}],
             endpoint="blocks.list", method="GET", path="/apps/A/users/owner/blocks", status=200,
             source="3.0", target="1.1")
