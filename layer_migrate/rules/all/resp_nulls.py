"""R08 — Optionally drop null-valued keys, as v1 servers before 2016-06-21 did.

Spec §1.9/§5.3, §14.1 R08: newer servers (and 1.x after June 2016) print explicit ``null``s; older
v1 clients expected absent keys (``{"name": "t-bone"}``). ``Options.drop_nulls`` (default False)
turns it on for successful response bodies. Lossless.
"""

from typing import Any

from layer_migrate.rulebook import ALL_STEPS, Context, Rule

rule = Rule("resp.nulls", spec="R08", step=ALL_STEPS, endpoints={"*"}, direction="response")


def drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


@rule.response_down
def drop(ctx: Context) -> bool:
    if not ctx.options.drop_nulls or ctx.body is None or not 200 <= ctx.status < 300:
        return False
    ctx.body = drop_nulls(ctx.body)
    return True


rule.example("response", {"id": "layer:///identities/x", "display_name": "X", "avatar_url": None},
             {"display_name": "X"}, endpoint="identity.get", method="GET", path="/apps/A/users/x/identity",
             source="2.0", target="1.0", options={"drop_nulls": True})
