"""R27 — 3.0 part ids are UUID URIs; v1/v2 consumers get ``…/parts/<index>``.

Spec §5.4, §14.4 R27: ``layer:///messages/M/parts/<uuid>`` → ``layer:///messages/M/parts/<i>``
with ``i`` the array position (announcements: ``layer:///announcements/A/parts/<i>``). The parent
URI comes from the message ``id`` when the part id lacks it. ``Options.part_ids="keep"`` disables
the rewrite. Lossy and unstable: 3.0 has no ordering guarantee and parts can change later.
"""

from typing import Any

from layer_migrate.rulebook import Context, Rule

rule = Rule("v3.part_ids.index", spec="R27", step=("2.0", "3.0"), direction="response",
            lossy="part ids become array positions (unstable: 3.0 does not guarantee part order)")


def _reindex(obj: dict[str, Any], ctx: Context) -> Any:
    parts = obj.get("parts")
    if ctx.options.part_ids != "index" or not isinstance(parts, list) or not parts:
        return obj
    parent = obj.get("id")
    out: list[Any] | None = None  # copied on the first changed part (hot path: a copy per message)
    for i, part in enumerate(parts):
        pid = part.get("id") if isinstance(part, dict) else None
        if not isinstance(pid, str):
            continue
        cut = pid.rfind("/parts/")
        if cut >= 0:
            new = f"{pid[:cut]}/parts/{i}"
        elif isinstance(parent, str):
            new = f"{parent}/parts/{i}"
        else:
            continue
        if new != pid:
            if out is None:
                out = list(parts)
            part = part.copy()  # copy-and-set: cheaper than {**part, "id": new}
            part["id"] = new
            out[i] = part
    if out is None:
        return obj
    result = obj.copy()
    result["parts"] = out
    return result


rule.object_down("message")(_reindex)
rule.object_down("announcement")(_reindex)

rule.example("message",
             {"id": "layer:///messages/940d", "parts": [
                 {"id": "layer:///messages/940d/parts/5f2b0b50-0bd2-4b4f-9c3e-0f3a8b1c2d3e",
                  "mime_type": "text/plain", "body": "a"},
                 {"id": "layer:///messages/940d/parts/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                  "mime_type": "text/plain", "body": "b"}]},
             {"id": "layer:///messages/940d", "parts": [
                 {"id": "layer:///messages/940d/parts/0", "mime_type": "text/plain", "body": "a"},
                 {"id": "layer:///messages/940d/parts/1", "mime_type": "text/plain", "body": "b"}]},
             source="3.0", target="2.0")
