"""R24 — A message's ``sender`` is a BasicIdentity (2.0); v1 sees ``{"user_id", "name"}``.

Spec §3.2/§5.3, §14.4 R24: ``id`` null (sent with a v1 ``sender.name``) → ``{"user_id": null,
"name": display_name}``; a known bot (``Options.bots``) → ``{"user_id": null, "name": NAME}``;
otherwise ``{"user_id": UID(s), "name": null}``. Webhook 1.0 payloads carry only the non-null
key (see ``webhook_events``). Lossy: display_name/avatar dropped.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.sender.basic_identity", spec="R24", step=("1.1", "2.0"), direction="response",
            lossy="drops the sender's display_name and avatar_url")
rule.object_field("message", "sender", "sender_object")
rule.response_read("message", "sender.name",
                   'sender is a BasicIdentity: v1 sender.name (bots) is display_name, and is null-equivalent for users only in v1')

_USER = {"id": "layer:///identities/bcd5", "url": "https://api.layer.com/identities/bcd5",
         "user_id": "bcd5", "display_name": "User A", "avatar_url": "https://x/a.gif"}
rule.example("message", {"id": "layer:///messages/m", "sender": _USER},
             {"id": "layer:///messages/m", "sender": {"user_id": "bcd5", "name": None}},
             source="2.0", target="1.1")
rule.example("message", {"id": "layer:///messages/m",
                         "sender": {"id": None, "url": None, "user_id": None, "display_name": "t-bone"}},
             {"id": "layer:///messages/m", "sender": {"user_id": None, "name": "t-bone"}},
             source="3.0", target="1.0")
rule.example("message", {"id": "layer:///messages/m",
                         "sender": {"id": "layer:///identities/support-bot", "user_id": "support-bot",
                                    "display_name": "Support"}},
             {"id": "layer:///messages/m", "sender": {"user_id": None, "name": "Support"}},
             source="3.0", target="1.1", options={"bots": {"Support": "support-bot"}})
