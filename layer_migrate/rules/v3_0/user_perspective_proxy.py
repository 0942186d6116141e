"""R47 — User-perspective reads go through the 3.0 Client API Proxy; same paths, Client API objects.

Spec §11, §14.7 R47: ``/apps/:app/users/:uid/conversations…``, ``…/messages/:mid``, ``…/receipts``
map 1:1; responses get R15, R18, R24, R25, R27, R29 — and, being user-perspective, keep
``received_at``/``is_unread``. The receipt body ``{"type": "read"|"delivery"}`` is unchanged.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v3.user_perspective.proxy", spec="R47", step=("2.0", "3.0"),
            endpoints={"user.conversations.list", "user.conversations.get", "user.messages.list",
                       "user.messages.get", "user.receipts.create"}, direction="both")

rule.example("response",
             {"id": "layer:///messages/m", "position": 3, "is_unread": False, "received_at": "2017-01-01T00:00:00Z",
              "receipts_url": "https://api.layer.com/apps/A/users/u/messages/m/receipts",
              "sender": {"id": "layer:///identities/u", "user_id": "u", "display_name": "U"},
              "recipient_status": {"layer:///identities/u": "read"}, "parts": []},
             {"id": "layer:///messages/m", "is_unread": False, "received_at": "2017-01-01T00:00:00Z",
              "sender": {"user_id": "u", "name": None}, "recipient_status": {"u": "read"}, "parts": []},
             endpoint="user.messages.get", method="GET", path="/apps/A/users/u/messages/m", status=200,
             source="3.0", target="1.1")
rule.example("request", {"type": "read"}, {"type": "read"}, endpoint="user.receipts.create", method="POST",
             path="/apps/A/users/u/messages/m/receipts", target="3.0")
