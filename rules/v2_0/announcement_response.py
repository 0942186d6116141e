"""R36 — The announcement 202 body: BasicIdentity sender and identity-id recipients → v1 shapes.

Spec §6, §14.5 R36: ``sender`` via R24 (announcement senders are bots → ``{"user_id": null,
"name": N}``); ``recipients`` through ``UID()`` where they are identity ids (2.0 docs print user
ids, 3.0 identity ids — both handled). Lossless.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.announcement.response", spec="R36", step=("1.1", "2.0"), endpoints={"announcements.send"},
            direction="response")
rule.object_field("announcement", "sender", "sender_object")
rule.object_field("announcement", "recipients[]", "user_id")

rule.example("response",
             {"id": "layer:///announcements/f3cc", "url": "https://api.layer.com/apps/A/announcements/f3cc",
              "sent_at": "2014-09-15T04:44:47+00:00",
              "recipients": ["layer:///identities/1234", "5678"],
              "sender": {"id": "layer:///identities/bot-the-system", "url": "https://x",
                         "user_id": "bot-the-system", "display_name": "The System", "avatar_url": None},
              "parts": [{"body": "Hello, World!", "mime_type": "text/plain"}]},
             {"id": "layer:///announcements/f3cc", "url": "https://api.layer.com/apps/A/announcements/f3cc",
              "sent_at": "2014-09-15T04:44:47+00:00", "recipients": ["1234", "5678"],
              "sender": {"user_id": None, "name": "The System"},
              "parts": [{"body": "Hello, World!", "mime_type": "text/plain"}]},
             endpoint="announcements.send", method="POST", path="/apps/A/announcements", status=202,
             source="3.0", target="1.1", options={"bots": {"The System": "bot-the-system"}})
