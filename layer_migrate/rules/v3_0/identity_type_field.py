"""R44 — 2.0-doc ``"type": "User"|"Bot"`` ↔ 3.0 ``"identity_type": "user"|"bot"``.

Spec §3.3/§3.4, §14.7 R44: real 2.0 servers already returned ``identity_type`` (OBS), so ``type`` is
treated as a doc artefact: going up it becomes ``identity_type`` (lower-case, mapped
case-insensitively); going down to 2.0 ``Options.identity_type_field`` decides the spelling. v1
clients never send either: their identity create/replace bodies gain the explicit default
``"identity_type": "user"`` in 3.0, as the §3.4 before/after shows. Lossless.
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


_WRITES = ("identity.create", "identity.replace")


@rule.request_up
def request_up(ctx: Context) -> bool:
    new = _up(ctx.body)
    # §3.4: a v1 identity create/replace reads in 3.0 with the explicit default "identity_type": "user"
    if (ctx.endpoint in _WRITES and ctx.source in ("1.0", "1.1") and isinstance(new, dict)
            and "identity_type" not in new):
        new = {**new, "identity_type": "user"}
    if new is ctx.body:
        return False
    ctx.body = new
    return True


@rule.request_down
def request_down(ctx: Context) -> bool:
    body = ctx.body
    if ctx.target in ("1.0", "1.1") and isinstance(body, dict) and ("identity_type" in body or "type" in body):
        new: Any = {k: v for k, v in body.items() if k not in ("identity_type", "type")}  # no v1 slot
    else:
        new = _down(body, ctx)
    if new is body:
        return False
    ctx.body = new
    return True


rule.object_up("identity")(lambda obj, ctx: _up(obj))
rule.object_down("identity")(_down)

rule.example("request", {"display_name": "Bot", "type": "Bot"}, {"display_name": "Bot", "identity_type": "bot"},
             endpoint="identity.create", method="POST", path="/apps/A/users/b/identity",
             source="2.0", target="3.0")
_FRODO = {"display_name": "Frodo the Dodo", "first_name": "Frodo", "metadata": {"level": "35"}}
rule.example("request", _FRODO, {**_FRODO, "identity_type": "user"}, endpoint="identity.create", method="POST",
             path="/apps/A/users/frodo/identity", source="1.1", target="3.0")
rule.example("identity", {"user_id": "b", "identity_type": "bot"}, {"user_id": "b", "type": "Bot"},
             source="3.0", target="2.0", options={"identity_type_field": "type"})
