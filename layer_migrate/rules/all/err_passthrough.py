"""R09 — Error objects pass through; their ``url`` points at the v1 docs; 409 data is downgraded.

Spec §1.8, §14.1 R09: ``{id, code, message, url, data}`` is identical in every version. ``id`` and
``code`` are kept; with ``Options.rewrite_error_url`` (default True) the 3.0-era url becomes the 1.x
one; the ``409 conflict`` body embeds the existing distinct conversation, which gets R15/R20.
"""

from typing import Any

from layer_migrate.errors import DOCS_URL, is_error_body
from layer_migrate.rulebook import ALL_STEPS, Context, Rule

rule = Rule("err.passthrough", spec="R09", step=ALL_STEPS, endpoints={"*"}, direction="response")


@rule.response_down
def errors(ctx: Context) -> bool:
    body: Any = ctx.body
    if ctx.status < 400 or not is_error_body(body):
        return False
    out = body
    if ctx.options.rewrite_error_url and ctx.target in ("1.0", "1.1"):
        url = DOCS_URL + "#overview" if body["id"] == "invalid_header" else DOCS_URL
        if body.get("url") != url and not str(body.get("url", "")).startswith(DOCS_URL):
            out = {**out, "url": url}
    data = body.get("data")
    if body["id"] in ("conflict", "resource_conflict") and isinstance(data, dict) and "participants" in data:
        new = ctx.engine.run_object("conversation", data, ctx)
        if new is not data:
            out = {**out, "data": new}
    if out is body:
        return False
    ctx.body = out
    return True


rule.example("response",
             {"id": "conflict", "code": 108, "url": "http://docs.layer.com/reference/server_api",
              "message": "The requested Distinct Conversation was found but had metadata that did not match your request.",
              "data": {"id": "layer:///conversations/c", "participants": [
                  {"id": "layer:///identities/a", "user_id": "a", "display_name": "A"}],
                  "distinct": True, "metadata": {"x": "1"}, "significance": {}}},
             {"id": "conflict", "code": 108, "url": "https://developer.layer.com/docs/platform",
              "message": "The requested Distinct Conversation was found but had metadata that did not match your request.",
              "data": {"id": "layer:///conversations/c", "participants": ["a"], "distinct": True,
                       "metadata": {"x": "1"}}},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations", status=409,
             after_status=409, source="3.0", target="1.1")
