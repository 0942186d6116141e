"""R18 — A user-perspective conversation's ``last_message`` follows the message rules.

Spec §4.3, §14.3 R18: R24, R25, R27, R29 apply to the embedded message (``position``,
``is_unread`` and ``received_at`` stay: they are v1 user-perspective fields). Lossy as those rules.
"""

from typing import Any

from layer_migrate.rulebook import ALL_STEPS, Context, Rule

rule = Rule("v2.conv.last_message", spec="R18", step=ALL_STEPS,
            endpoints={"user.conversations.list", "user.conversations.get"}, direction="response")


@rule.object_down("conversation")
def last_message(conv: dict[str, Any], ctx: Context) -> Any:
    msg = conv.get("last_message")
    if not isinstance(msg, dict):
        return conv
    before = ctx.in_last_message
    ctx.in_last_message = True
    try:
        new = ctx.engine.run_object("message", msg, ctx, source=ctx.source, target=ctx.target)
    finally:
        ctx.in_last_message = before
    return conv if new is msg else {**conv, "last_message": new}


@rule.object_up("conversation")
def last_message_up(conv: dict[str, Any], ctx: Context) -> Any:
    msg = conv.get("last_message")
    if not isinstance(msg, dict):
        return conv
    new = ctx.engine.run_object("message", msg, ctx, source=ctx.source, target=ctx.target)
    return conv if new is msg else {**conv, "last_message": new}


rule.example("response",
             {"id": "layer:///conversations/c", "participants": [{"id": "layer:///identities/a", "user_id": "a"}],
              "unread_message_count": 1,
              "last_message": {"id": "layer:///messages/m", "position": 5, "is_unread": True,
                               "received_at": "2016-01-01T00:00:00Z", "updated_at": "2017-01-01T00:00:00Z",
                               "sender": {"id": "layer:///identities/a", "user_id": "a", "display_name": "A"},
                               "recipient_status": {"layer:///identities/a": "read"}}},
             {"id": "layer:///conversations/c", "participants": ["a"], "unread_message_count": 1,
              "last_message": {"id": "layer:///messages/m", "position": 5, "is_unread": True,
                               "received_at": "2016-01-01T00:00:00Z",
                               "sender": {"user_id": "a", "name": None}, "recipient_status": {"a": "read"}}},
             endpoint="user.conversations.get", method="GET", path="/apps/A/users/a/conversations/c",
             source="3.0", target="1.1")
