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

_PART = ("updated_at", "url", "message_url")
_UNREAD = ("received_at", "is_unread")
# the message keys dropped, by (position kept?, unread fields dropped?)
_DROP = {
    (False, False): ("updated_at", "receipts_url", "position"),
    (True, False): ("updated_at", "receipts_url"),
    (False, True): ("updated_at", "receipts_url", "position", *_UNREAD),
    (True, True): ("updated_at", "receipts_url", *_UNREAD),
}


def _without(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    """``d`` minus ``keys`` (a copy), or None when it has none of them. Copy-and-delete: measured
    3–4× faster than a dict comprehension for these few keys."""
    out = None
    for k in keys:
        if k in d:
            if out is None:
                out = d.copy()
            del out[k]
    return out


def _strip(obj: dict[str, Any], ctx: Context) -> Any:
    keep_position = ctx.in_last_message and ctx.perspective == "user"
    system = not ctx.webhook and ctx.perspective == "system"
    # webhooks: 1.0 webhook messages never carried the user-perspective fields (§12.3)
    drop_unread = ctx.webhook or (system and ctx.options.system_unread_fields == "strip")
    out = _without(obj, _DROP[(keep_position, drop_unread)])
    if system and not drop_unread:  # the 1.x system perspective printed them as null
        for k in _UNREAD:
            if obj.get(k) is not None:
                out = out if out is not None else obj.copy()
                out[k] = None
    parts = obj.get("parts")
    if type(parts) is list:
        new_parts = None
        for i, p in enumerate(parts):
            q = _without(p, _PART) if type(p) is dict else None
            if q is not None:
                if new_parts is None:
                    new_parts = list(parts)
                new_parts[i] = q
        if new_parts is not None:
            out = out if out is not None else obj.copy()
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
