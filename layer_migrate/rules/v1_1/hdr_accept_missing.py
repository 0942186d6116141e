"""R04 — A missing Accept header (pre-2015-09-03 v1.0 clients) gets the target version injected.

Spec §1.2, §14.1 R04: content negotiation became required in 1.1; without the header a newer
server answers ``406 invalid_header (107)``. The client's version is then 1.0.
"""

from layer_migrate.rulebook import Context, Rule
from layer_migrate.versions import (
    PLATFORM_MEDIA_TYPE,
    WEBHOOKS_MEDIA_TYPE,
    accept_header,
    version_of,
)

rule = Rule("hdr.accept.missing", spec="R04", step=("1.0", "1.1"), endpoints={"*"},
            direction="request", order=0)


@rule.accept_up
def inject(ctx: Context) -> bool:
    accept = ctx.headers.get("accept")
    if ctx.endpoint and ctx.endpoint.startswith("webhooks."):
        if version_of(accept, WEBHOOKS_MEDIA_TYPE) or version_of(accept):
            return False
        ctx.headers["accept"] = accept_header("1.0", WEBHOOKS_MEDIA_TYPE)
        return True
    if version_of(accept, PLATFORM_MEDIA_TYPE) is not None:
        return False
    ctx.headers["accept"] = accept_header("1.0")
    return True


rule.example("request", None, None, endpoint="conversations.get", method="GET",
             path="/apps/A/conversations/C", source="1.0", target="3.0",
             headers={}, after_headers={"accept": "application/vnd.layer+json; version=3.0"})
