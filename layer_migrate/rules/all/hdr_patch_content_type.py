"""R05 — PATCH bodies are sent as ``application/vnd.layer-patch+json`` (and must be valid Layer-Patch).

Spec §1.3/§2, §14.1 R05: the blocking page's typo ``application/vnd.layer-patch.json`` and a bare
``application/json`` on a PATCH are normalised; a newer server may answer a wrong PATCH
Content-Type with ``406 invalid_header`` (INFERRED). Also for ``POST`` + ``X-HTTP-Method-Override:
PATCH`` (R06). A body that is not a valid Layer-Patch operations array is refused with a Layer
error naming the operation (``layer_migrate.layer_patch.parse``) rather than half-translated.
"""

from layer_migrate.layer_patch import parse
from layer_migrate.rulebook import ALL_STEPS, PATCH_ENDPOINTS, Context, Rule
from layer_migrate.versions import PATCH_MEDIA_TYPE, media_type_of

rule = Rule("hdr.patch.content_type", spec="R05", step=ALL_STEPS, endpoints=PATCH_ENDPOINTS, direction="request")

_FIX = {"", "application/json", "application/vnd.layer-patch.json", "text/plain"}


@rule.request_up
def normalise(ctx: Context) -> bool:
    is_patch = ctx.method == "PATCH" or (
        ctx.method == "POST" and ctx.headers.get("x-http-method-override", "").upper() == "PATCH")
    if not is_patch or ctx.body is None:
        return False
    if ctx.options.emulate_v1_errors:
        parse(ctx.body)
    current = ctx.headers.get("content-type")
    if current == PATCH_MEDIA_TYPE or media_type_of(current) not in _FIX:
        return False
    ctx.headers["content-type"] = PATCH_MEDIA_TYPE
    return True


rule.example("request", [{"operation": "set", "property": "metadata.a", "value": "b"}],
             [{"operation": "set", "property": "metadata.a", "value": "b"}],
             endpoint="conversations.patch", method="PATCH", path="/apps/A/conversations/C",
             headers={"content-type": "application/vnd.layer-patch.json"},
             after_headers={"content-type": "application/vnd.layer-patch+json"})
rule.example("request", [{"operation": "move", "property": "participants", "value": "a"}],
             error="invalid_property", endpoint="conversations.patch", method="PATCH",
             path="/apps/A/conversations/C", headers={"content-type": "application/vnd.layer-patch+json"})
