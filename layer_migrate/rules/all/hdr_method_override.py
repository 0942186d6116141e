"""R06 — ``POST`` + ``X-HTTP-Method-Override: PATCH`` is a PATCH for every body rule; the header stays.

Spec §1.4, §14.1 R06: supported by 1.x (since 2015-09-16), 2.0 and 3.0, so it is kept; the engine
selects the PATCH endpoint for such requests, so R16/R17/R40/R41 rewrite the body.
"""

from layer_migrate.rulebook import ALL_STEPS, PATCH_ENDPOINTS, Context, Rule

rule = Rule("hdr.method_override", spec="R06", step=ALL_STEPS, endpoints=PATCH_ENDPOINTS, direction="request",
            order=4)


@rule.request_up
def note(ctx: Context) -> bool:
    return ctx.method == "POST" and ctx.headers.get("x-http-method-override", "").upper() == "PATCH"


rule.example("request", [{"operation": "add", "property": "participants", "value": "u1"}],
             [{"operation": "add", "property": "participants", "id": "layer:///identities/u1"}],
             endpoint="conversations.patch", method="POST", path="/apps/A/conversations/C",
             headers={"x-http-method-override": "PATCH", "content-type": "application/json"},
             after_headers={"x-http-method-override": "PATCH",
                            "content-type": "application/vnd.layer-patch+json"},
             after_method="POST")
