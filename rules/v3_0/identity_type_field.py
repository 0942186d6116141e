"""R44 — 2.0-doc ``"type": "User"|"Bot"`` ↔ 3.0 ``"identity_type": "user"|"bot"``.

Spec §3.3, §14.7 R44: real 2.0 servers already returned ``identity_type`` (OBS), so ``type`` is
treated as a doc artefact: going up it becomes ``identity_type`` (lower-case, mapped
case-insensitively); going down to 2.0 ``Options.identity_type_field`` decides the spelling. v1
clients never send either. Lossless.
"""

from typing import Any

from layer_migrate.rulebook import Context, Rule

rule = Rule("v3.identity.type_field", spec="R44", step=("2.0", "3.0"),
            endpoints={"identity.create", "identity.replace", "identity.get"}, direction="both")


def _up(obj: Any) -> Any:
    if not isinstance(obj, dict) or "type" not in obj:
        return obj
    out = {k: v for k, v in obj.items() if k != "type"}
    if "identity_type" not in out and isinstance(obj["type"], str):
        out["identity_type"] = obj["type"].lower()
    return out


def _down(obj: Any, ctx: Context) -> Any:
    style = ctx.options.identity_type_field
    if not isinstance(obj, dict) or "identity_type" not in obj or style == "identity_type":
        return obj
    out = dict(obj)
    value = out["identity_type"]
    if style == "type":
        del out["identity_type"]
    out["type"] = value.capitalize() if isinstance(value, str) else value
    return out


@rule.request_up
def request_up(ctx: Context) -> bool:
    new = _up(ctx.body)
    if new is ctx.body:
        return False
    ctx.body = new
    return True


@rule.request_down
def request_down(ctx: Context) -> bool:
    new = _down(ctx.body, ctx)
    if new is ctx.body:
        return False
    ctx.body = new
    return True


rule.object_up("identity")(lambda obj, ctx: _up(obj))
rule.object_down("identity")(_down)

rule.example("request", {"display_name": "Bot", "type": "Bot"}, {"display_name": "Bot", "identity_type": "bot"},
             endpoint="identity.create", method="POST", path="/apps/A/users/b/identity",
             source="2.0", target="3.0")
rule.example("identity", {"user_id": "b", "identity_type": "bot"}, {"user_id": "b", "type": "Bot"},
             source="3.0", target="2.0", options={"identity_type_field": "type"})
