"""R50 — Webhook event names: 2.0/3.0 ``Type.verb`` events → 1.0 names; no equivalent → dropped.

Spec §12.3 table, §14.8 R50: ``Message.created`` → ``message.sent`` (not for announcements),
``Receipt.created`` → ``message.read``/``message.delivered`` by receipt type, ``Conversation.updated``
→ ``conversation.updated.participants`` and/or ``.metadata`` from the payload's ``changes`` (INFERRED
convention of :mod:`layer_migrate.webhook_events`; without it ``Options.conversation_updated_default``),
``*.deleted`` → ``*.deleted``. ``MessagePart.*``, ``Channel.*``, ``Membership.*``,
``Participation.*``, ``Identity.*`` → no event (with a reason). The table lives in
:mod:`layer_migrate.webhook_events`.
"""

from layer_migrate.rulebook import Rule

# Lossy only when an event is dropped: that is reported per delivery, with the reason.
rule = Rule("wh.event_names", spec="R50", step=("1.1", "2.0"), endpoints=(), direction="webhook")
rule.webhook("event_names")

_CONV = {"id": "layer:///conversations/e67b", "participants": [{"id": "layer:///identities/a", "user_id": "a"}],
         "distinct": False, "metadata": {"title": "x"}}
_EV = {"created_at": "2017-10-01T00:00:00Z", "id": "3f1c0f2e-0000-4000-8000-000000000001"}
rule.example("delivery",
             {"type": "Conversation.updated",
              "body": {"event": {**_EV, "type": "Conversation.updated"}, "conversation": _CONV,
                       "changes": [{"property": "metadata.title", "before": "y", "after": "x"}]}},
             [{"type": "conversation.updated.metadata",
               "body": {"event": {**_EV, "type": "conversation.updated.metadata"},
                        "conversation": {**_CONV, "participants": ["a"]}}}])
rule.example("delivery", {"type": "Channel.created", "body": {"event": {**_EV, "type": "Channel.created"}}}, [])
