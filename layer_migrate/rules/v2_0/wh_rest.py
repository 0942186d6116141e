"""R53 — Webhooks REST: Accept, registration ``version`` and ``events`` move to the target version.

Spec §12.1/§12.4, §14.8 R53: requests get ``application/vnd.layer.webhooks+json; version=2.0|3.0``
(the platform ``version=3.0`` target means webhooks 3.0), body ``version: "1.0"`` → the target and
``events`` via R50 (``message.read``/``.delivered`` → ``Receipt.created``, ``conversation.updated.*``
→ ``Conversation.updated``; the 2.0 target uses the published 2.0 names, INFERRED). Responses read
back as ``version: "1.0"`` with 1.0 event names. Event granularity (``message.read`` vs
``Receipt.created``) would be lost on later reads, so with ``Options.webhook_events_in_config``
(default True, INFERRED-safe: ``config`` is opaque to the server) the client's own event list rides
along inside ``config`` under ``layer_migrate_v1`` and every read-back — and every delivery (R52) —
restores the exact v1 list and config. Without it: lossless except event granularity.
"""

from typing import Any

from layer_migrate.rulebook import Context, Rule
from layer_migrate.versions import WEBHOOKS_MEDIA_TYPE
from layer_migrate.webhook_events import (
    CONFIG_MARK,
    events_down,
    events_up,
    unmark_config,
    webhook_version,
)

rule = Rule("wh.rest", spec="R53", step=("1.1", "2.0"),
            endpoints={"webhooks.create", "webhooks.list", "webhooks.get", "webhooks.delete",
                       "webhooks.activate", "webhooks.deactivate"}, direction="both")
rule.media_type(WEBHOOKS_MEDIA_TYPE, ("1.0",))


@rule.request_up
def registration(ctx: Context) -> bool:
    body = ctx.body
    if ctx.endpoint != "webhooks.create" or not isinstance(body, dict):
        return False
    out = dict(body)
    if out.get("version") in ("1.0", "1.1", 1, 1.0):
        out["version"] = webhook_version(ctx.target)
    if "events" in out:
        original = out["events"]
        out["events"] = events_up(original)
        config = out.get("config")
        if ctx.options.webhook_events_in_config and (config is None or isinstance(config, dict)):
            out["config"] = {**(config or {}), CONFIG_MARK: {"events": original, "config": config is not None}}
    if out == body:
        return False
    ctx.body = out
    return True


@rule.object_down("webhook")
def readback(obj: dict[str, Any], ctx: Context) -> Any:
    out = dict(obj)
    if obj.get("version") in ("2.0", "3.0"):
        out["version"] = "1.0"
    marked = unmark_config(out)
    if marked is not None:
        out["events"] = list(marked)
    elif isinstance(obj.get("events"), list):
        original = ctx.request.body.get("events") if ctx.request is not None and isinstance(
            ctx.request.body, dict) else None
        out["events"] = events_down(obj["events"], original)
    return obj if out == obj else out


_REG = {"version": "1.0", "target_url": "https://example.com/hook", "secret": "s",
        "events": ["message.sent", "message.read", "message.delivered", "conversation.updated.metadata"],
        "config": {"k": "v"}}
rule.example("request", _REG,
             {**_REG, "version": "3.0", "events": ["Message.created", "Receipt.created", "Conversation.updated"],
              "config": {"k": "v", "layer_migrate_v1": {"events": _REG["events"], "config": True}}},
             endpoint="webhooks.create", method="POST", path="/apps/A/webhooks",
             headers={"accept": "application/vnd.layer.webhooks+json; version=1.0"}, source="1.0",
             target="3.0", after_headers={"accept": "application/vnd.layer.webhooks+json; version=3.0"})
_HOOK = {"id": "layer:///apps/A/webhooks/w", "url": "https://api.layer.com/apps/A/webhooks/w",
         "target_url": "https://example.com/hook", "status": "unverified", "created_at": "t", "config": {"k": "v"}}
rule.example("response",
             {**_HOOK, "version": "3.0", "events": ["Message.created", "Receipt.created", "Conversation.updated"]},
             {**_HOOK, "version": "1.0", "events": _REG["events"]},
             endpoint="webhooks.create", method="POST", path="/apps/A/webhooks", status=201, after_status=201,
             source="3.0", target="1.0", request_body=_REG)
rule.example("response", [{**_HOOK, "version": "3.0", "events": ["Receipt.created"]},
                          {**_HOOK, "version": "3.0", "events": ["Receipt.created"],
                           "config": {"layer_migrate_v1": {"events": ["message.read"], "config": False}}}],
             [{**_HOOK, "version": "1.0", "events": ["message.delivered", "message.read"]},
              {**_HOOK, "version": "1.0", "events": ["message.read"], "config": None}],
             endpoint="webhooks.list", method="GET", path="/apps/A/webhooks", status=200,
             source="3.0", target="1.0")
