"""R35 — Announcements are sent from ``sender.name`` only; 2.0 needs a bot ``sender_id``.

Spec §6, §14.5 R35: the name goes through R22 (bot directory + identity prerequisite). A v1
client sending ``sender.user_id`` gets the v1 rejection locally (INFERRED ``422
invalid_property``); a missing sender ``422 missing_property sender``.
"""

from layer_migrate.rulebook import Context, Rule, check_sender

rule = Rule("v2.announcement.sender", spec="R35", step=("1.1", "2.0"), endpoints={"announcements.send"},
            direction="request", order=20)


@rule.request_up
def validate(ctx: Context) -> bool:
    return check_sender(ctx, allow_user_id=False)


rule.example("request", {"recipients": ["a"], "sender": {"user_id": "u"}, "parts": []},
             error="invalid_property", endpoint="announcements.send", method="POST",
             path="/apps/A/announcements")
rule.example("request", {"recipients": ["a"], "sender": {"name": "Admin"}, "parts": []},
             {"recipients": ["layer:///identities/a"], "sender_id": "layer:///identities/bot-admin-x",
              "parts": []},
             endpoint="announcements.send", method="POST", path="/apps/A/announcements",
             options={"bots": {"Admin": "bot-admin-x"}})
