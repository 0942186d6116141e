"""R19 — Optionally answer an existing distinct conversation the pre-Sep-2015 way (303 + Location).

Spec §4.2, §14.3 R19: newer servers answer ``200``; a very old v1.0 client may expect ``303 See
Other`` with ``Location: /apps/<app>/conversations/<uuid>`` derived from ``id``. Off by default
(``Options.distinct_303``). Lossless.
"""

from layer_migrate.rulebook import Context, Rule

rule = Rule("v1.conv.distinct_status", spec="R19", step=("1.1", "2.0"), endpoints={"conversations.create"},
            direction="response")


@rule.response_down
def see_other(ctx: Context) -> bool:
    if not ctx.options.distinct_303 or ctx.status != 200 or not isinstance(ctx.body, dict):
        return False
    cid = str(ctx.body.get("id", "")).rsplit("/", 1)[-1]
    if not cid:
        return False
    ctx.status = 303
    ctx.headers["location"] = f"/apps/{ctx.params.get('app', '')}/conversations/{cid}"
    return True


rule.example("response", {"id": "layer:///conversations/c1", "participants": [], "distinct": True},
             {"id": "layer:///conversations/c1", "participants": [], "distinct": True},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations", status=200,
             after_status=303, after_headers={"location": "/apps/A/conversations/c1"},
             source="2.0", target="1.0", options={"distinct_303": True})
