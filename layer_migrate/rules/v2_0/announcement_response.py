"""R36 — The announcement 202 body: BasicIdentity sender and identity-id recipients → v1 shapes.

Spec §6, §14.5 R36: ``sender`` via R24 (announcement senders are bots → ``{"user_id": null,
"name": N}``); ``recipients`` through ``UID()`` where they are identity ids (2.0 docs print user
ids, 3.0 identity ids — both handled). Lossless.
"""

from typing import Any

from layer_migrate.identity import user_id_of
from layer_migrate.rulebook import Context, Rule, bot_name

rule = Rule("v2.announcement.response", spec="R36", step=("1.1", "2.0"), endpoints={"announcements.send"},
            direction="response")
rule.object_field("announcement", "recipients[]", "user_id")


@rule.object_down("announcement")
def sender(ann: dict[str, Any], ctx: Context) -> Any:
    """Announcement senders are bots: the v1 name is NAME[uid], else the identity's display name."""
    s = ann.get("sender")
    if not isinstance(s, dict) or ("id" not in s and "display_name" not in s):
        return ann
    uid = user_id_of(s)
    name = bot_name(uid, s, ctx) or s.get("display_name") or uid
    return {**ann, "sender": {"user_id": None, "name": name}}


@rule.object_up("announcement")
def sender_up(ann: dict[str, Any], ctx: Context) -> Any:
    s = ann.get("sender")
    if not isinstance(s, dict) or "id" in s or not isinstance(s.get("name"), str):
        return ann
    uid = ctx.options.bots.user_id_for(s["name"])
    from layer_migrate.identity import identity_id

    return {**ann, "sender": {"id": identity_id(uid) if uid else None, "user_id": uid, "display_name": s["name"]}}

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
rule.example("announcement",
             {"id": "layer:///announcements/a", "recipients": ["layer:///identities/u"],
              "sender": {"id": "layer:///identities/bot-x", "user_id": "bot-x", "display_name": "Admin"}},
             {"id": "layer:///announcements/a", "recipients": ["u"], "sender": {"user_id": None, "name": "Admin"}},
             source="2.0", target="1.0")
