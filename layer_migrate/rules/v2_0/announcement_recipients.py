"""R34 — Announcement ``recipients`` are identity ids (2.0); ``"everyone"`` is refused the v1 way.

Spec §6, §14.5 R34: ``["U"]`` → ``[ID(U)]``. The literal ``"everyone"`` (discontinued
2015-11-30) and a missing ``recipients`` (OBS ``422 missing_property recipients``) are answered
locally (``422 invalid_property``, INFERRED code) instead of being forwarded.
"""

from layer_migrate.errors import LayerError, invalid_property
from layer_migrate.rulebook import Context, Rule

rule = Rule("v2.announcement.recipients", spec="R34", step=("1.1", "2.0"),
            endpoints={"announcements.send"}, direction="request")
rule.request_field("recipients[]", "identity_id")


@rule.request_up
def validate(ctx: Context) -> bool:
    body = ctx.body
    if not isinstance(body, dict):
        return False
    recipients = body.get("recipients")
    if recipients is None:
        if ctx.options.emulate_v1_errors:
            raise LayerError("missing_property", "Object is missing required member 'recipients'",
                             data={"property": "recipients"})
        return False
    if recipients == "everyone":
        raise invalid_property("recipients", "Property 'recipients' must be an array of user ids; "
                                             "\"everyone\" is no longer supported")
    if not isinstance(recipients, list):
        raise invalid_property("recipients", "Property 'recipients' must be an array of user ids")
    return False


rule.example("request", {"recipients": ["1234", "5678"], "sender": {"name": "The System"},
                         "parts": [{"body": "Hello, World!", "mime_type": "text/plain"}]},
             {"recipients": ["layer:///identities/1234", "layer:///identities/5678"],
              "sender_id": "layer:///identities/system-bot",
              "parts": [{"body": "Hello, World!", "mime_type": "text/plain"}]},
             endpoint="announcements.send", method="POST", path="/apps/A/announcements",
             options={"bots": {"The System": "system-bot"}})
rule.example("request", {"recipients": "everyone", "sender": {"name": "Admin"}, "parts": []},
             error="invalid_property", endpoint="announcements.send", method="POST",
             path="/apps/A/announcements")
rule.example("request", {"sender": {"name": "Admin"}, "parts": []}, error="missing_property",
             endpoint="announcements.send", method="POST", path="/apps/A/announcements")
