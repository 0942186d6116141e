"""R29 — 2.0 messages carry ``updated_at`` since message updating (Sept 2017); v1 never did.

Spec §5.3, §14.4 R29 ("partly 2.0 after Sept 2017") and the change log's 2017-09-28 line ("support
for message updating added to version 2.0"): a 2.0 message (and each of its parts) may carry
``updated_at``; a 1.x consumer has no such field and cannot express an edit, so the field is
removed on the way down. The rest of R29 (part ``url``/``message_url``, ``receipts_url``,
``position``) exists only at 3.0 and stays in ``v3.message.extra_fields``. Lossy: edit times.
"""

from typing import Any

from layer_migrate.rulebook import Context, Rule

rule = Rule("v2.message.updated_at", spec="R29", step=("1.1", "2.0"), direction="response",
            lossy="drops updated_at (v1 cannot express message edits)")


def _strip(obj: dict[str, Any], ctx: Context) -> Any:
    out = obj
    if "updated_at" in obj:
        out = obj.copy()
        del out["updated_at"]
    parts = obj.get("parts")
    if isinstance(parts, list):
        for p in parts:  # a plain loop: any(<genexpr>) measured ~2x slower for the usual 1-3 parts
            if type(p) is dict and "updated_at" in p:
                out = out if out is not obj else obj.copy()
                out["parts"] = [{k: v for k, v in q.items() if k != "updated_at"} if type(q) is dict else q
                                for q in parts]
                break
    return out


rule.object_down("message")(_strip)

rule.example("message",
             {"id": "layer:///messages/m", "updated_at": "2017-10-01T00:00:00Z",
              "parts": [{"id": "layer:///messages/m/parts/0", "mime_type": "text/plain", "body": "x",
                         "updated_at": "2017-10-01T00:00:00Z"}]},
             {"id": "layer:///messages/m",
              "parts": [{"id": "layer:///messages/m/parts/0", "mime_type": "text/plain", "body": "x"}]},
             source="2.0", target="1.1")
rule.example("message", {"id": "layer:///messages/m", "parts": []},
             {"id": "layer:///messages/m", "parts": []}, source="2.0", target="1.1")
