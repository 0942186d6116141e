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
    out, changed = [], False
    for i, part in enumerate(parts):
        pid = part.get("id") if isinstance(part, dict) else None
        if isinstance(pid, str) and "/parts/" in pid:
            base = pid.rsplit("/parts/", 1)[0]
            new = f"{base}/parts/{i}"
        elif isinstance(pid, str) and isinstance(parent, str):
            new = f"{parent}/parts/{i}"
        else:
            out.append(part)
            continue
        if new != pid:
            part = {**part, "id": new}
            changed = True
        out.append(part)
    if not changed:
        return obj
    return {**obj, "parts": out}


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
