"""R52 — Objects inside webhook deliveries follow the response rules; ``config`` is kept.

Spec §12.3, §14.8 R52: ``message`` gets R24 (single-key sender in 1.0 payloads), R25, R27, R29;
``conversation`` gets R15/R20. ``Receipt.created`` needs the full message (the INFERRED payload of
convention in :mod:`layer_migrate.webhook_events` carries it); without it there is no 1.0 event and the reason says to fetch it.
"""

from layer_migrate.rulebook import Rule

rule = Rule("wh.objects", spec="R52", step=("1.1", "2.0"), endpoints=(), direction="webhook")
rule.webhook("objects")

_EV = {"created_at": "2015-09-17T20:46:47.561Z", "id": "c12f340d-3f5a-4e0c-8a36-5c8b1f3e2a11"}
_MSG3 = {"id": "layer:///messages/940d", "url": "https://api.layer.com/apps/A/messages/940d",
         "conversation": {"id": "layer:///conversations/e67b", "url": "https://api.layer.com/apps/A/conversations/e67b"},
         "parts": [{"id": "layer:///messages/940d/parts/7d9f6d2c-8b4a-4c3e-9f1a-2b3c4d5e6f70",
                    "mime_type": "text/plain", "body": "This is the message.", "updated_at": "2017-10-01T00:00:00Z"}],
         "sent_at": "2014-09-09T04:44:47+00:00",
         "sender": {"id": "layer:///identities/12345", "url": "u", "user_id": "12345", "display_name": "D",
                    "avatar_url": None},
         "recipient_status": {"layer:///identities/12345": "read", "layer:///identities/999": "sent",
                              "layer:///identities/111": "sent"},
         "position": 120709792, "updated_at": "2017-10-01T00:00:00Z"}
_MSG1 = {"id": "layer:///messages/940d", "url": "https://api.layer.com/apps/A/messages/940d",
         "conversation": _MSG3["conversation"],
         "parts": [{"id": "layer:///messages/940d/parts/0", "mime_type": "text/plain", "body": "This is the message."}],
         "sent_at": "2014-09-09T04:44:47+00:00", "sender": {"user_id": "12345"},
         "recipient_status": {"12345": "read", "999": "sent", "111": "sent"}}
rule.example("delivery",
             {"type": "Message.created",
              "body": {"event": {**_EV, "type": "Message.created"}, "actor": _MSG3["sender"], "message": _MSG3,
                       "config": {"key1": "value1"}}},
             [{"type": "message.sent",
               "body": {"event": {**_EV, "type": "message.sent", "actor": {"user_id": "12345"}},
                        "message": _MSG1, "config": {"key1": "value1"}}}])
rule.example("delivery",
             {"type": "Receipt.created",
              "body": {"event": {**_EV, "type": "Receipt.created"},
                       "actor": {"id": "layer:///identities/999", "user_id": "999", "display_name": "N"},
                       "receipt": {"type": "read"}, "message": _MSG3}},
             [{"type": "message.read",
               "body": {"event": {**_EV, "type": "message.read", "actor": {"user_id": "999"}},
                        "message": _MSG1}}])
