"""R21 — A message's ``sender.user_id`` becomes ``sender_id`` = identity id (2.0).

Spec §5.2, §14.4 R21: ``{"sender":{"user_id":U}}`` → ``{"sender_id":ID(U)}``. Lossless. The
identity of U must exist upstream (participants get one implicitly).
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.sender.user_id", spec="R21", step=("1.1", "2.0"), endpoints={"messages.send"},
            direction="request")
rule.request_field("sender.user_id", "identity_id", to="sender_id")

rule.example("request",
             {"sender": {"user_id": "user1"}, "parts": [{"body": "Hi", "mime_type": "text/plain"}],
              "notification": {"text": "Hi", "sound": "chime.aiff"}},
             {"sender_id": "layer:///identities/user1",
              "parts": [{"body": "Hi", "mime_type": "text/plain"}],
              "notification": {"text": "Hi", "sound": "chime.aiff"}},
             endpoint="messages.send", method="POST", path="/apps/A/conversations/C/messages")
