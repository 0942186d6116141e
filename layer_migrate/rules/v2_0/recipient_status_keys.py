"""R25 — ``recipient_status`` is keyed by identity id (2.0); v1 keys it by user id.

Spec §5.3, §14.4 R25: each key via ``UID()``; values (sent|delivered|read) unchanged. Lossless.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.recipient_status.keys", spec="R25", step=("1.1", "2.0"), direction="response")
rule.object_field("message", "recipient_status{}", "user_id")
rule.response_read("message", "recipient_status{}",
                   'keys are identity ids: index with the identity id of the user')

rule.example("message",
             {"id": "layer:///messages/m",
              "recipient_status": {"layer:///identities/2dfb": "sent", "layer:///identities/bcd5": "read",
                                   "layer:///identities/b%2Fc": "delivered"}},
             {"id": "layer:///messages/m", "recipient_status": {"2dfb": "sent", "bcd5": "read", "b/c": "delivered"}},
             source="2.0", target="1.1")
rule.example("message", {"id": "layer:///messages/m", "recipient_status": None},
             {"id": "layer:///messages/m", "recipient_status": None}, source="2.0", target="1.1")
