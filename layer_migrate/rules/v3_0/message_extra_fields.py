"""R29 — 3.0-only message fields are removed for older consumers.

Spec §5.3, §14.4 R29: ``updated_at`` (message and parts), part ``url``/``message_url``,
``receipts_url``, ``position`` (kept only inside a user-perspective ``last_message``), and the
system perspective's ``received_at``/``is_unread`` become ``null`` as the 1.x system perspective
printed them (``Options.system_unread_fields="strip"`` removes them). Lossy: edit information.
"""

from typing import Any

from layer_migrate.rulebook import Context, Rule

rule = Rule("v3.message.extra_fields", spec="R29", step=("2.0", "3.0"), direction="response",
            lossy="drops updated_at, part url/message_url, receipts_url and position")

_MSG = ("updated_at", "receipts_url")
_PART = frozenset(("updated_at", "url", "message_url"))


def _strip(obj: dict[str, Any], ctx: Context) -> Any:
    out: dict[str, Any] | None = None
    for k in _MSG:
        if k in obj:
            out = out if out is not None else dict(obj)
            del out[k]
    if "position" in obj and not (ctx.in_last_message and ctx.perspective == "user"):
        out = out if out is not None else dict(obj)
        del out["position"]
    if ctx.webhook:  # 1.0 webhook messages never carried the user-perspective fields (§12.3)
        for k in ("received_at", "is_unread"):
            if k in obj:
                out = out if out is not None else dict(obj)
                del out[k]
    elif ctx.perspective == "system":
        for k in ("received_at", "is_unread"):
            if k in obj:
                if ctx.options.system_unread_fields == "strip":
                    out = out if out is not None else dict(obj)
                    del out[k]
                elif obj[k] is not None:
                    out = out if out is not None else dict(obj)
                    out[k] = None
    parts = obj.get("parts")
    if isinstance(parts, list):
        new_parts = [{k: v for k, v in p.items() if k not in _PART}
                     if type(p) is dict and not _PART.isdisjoint(p) else p for p in parts]
        if any(a is not b for a, b in zip(new_parts, parts, strict=False)):
            out = out if out is not None else dict(obj)
            out["parts"] = new_parts
    return obj if out is None else out


rule.object_down("message")(_strip)
rule.object_down("announcement")(_strip)

rule.example("message",
             {"id": "layer:///messages/m", "updated_at": "2017-10-01T00:00:00Z", "position": 120709792,
              "receipts_url": "https://api.layer.com/apps/A/messages/m/receipts",
              "received_at": "2017-10-01T00:00:00Z", "is_unread": True,
              "parts": [{"id": "layer:///messages/m/parts/0", "mime_type": "text/plain", "body": "x",
                         "updated_at": "2017-10-01T00:00:00Z", "url": "https://x", "message_url": "https://y"}]},
             {"id": "layer:///messages/m", "received_at": None, "is_unread": None,
              "parts": [{"id": "layer:///messages/m/parts/0", "mime_type": "text/plain", "body": "x"}]},
             source="3.0", target="2.0")
