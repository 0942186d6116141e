"""R15 — Conversation ``participants`` in responses are BasicIdentity objects (2.0); v1 sees user ids.

Spec §4.2/§4.3, §14.3 R15: ``[BasicIdentity]`` → ``[UID(p)]`` in every Conversation (create,
409 ``data``, GET system/user, lists, webhooks). Identity-id strings (2.0 doc example) are decoded
too. Lossy: ``display_name``/``avatar_url``/``url`` have no v1 slot.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.participants.basic_identity", spec="R15", step=("1.1", "2.0"),
            direction="response", lossy="drops display_name, avatar_url and url of participants")
rule.object_field("conversation", "participants[]", "user_id")
rule.response_read("conversation", "participants[]",
                   'participants are BasicIdentity objects: read p["user_id"]')

rule.example("conversation",
             {"id": "layer:///conversations/c1", "participants": [
                 {"id": "layer:///identities/a", "url": "https://api.layer.com/identities/a",
                  "user_id": "a", "display_name": "A", "avatar_url": None},
                 {"id": "layer:///identities/b%2Fc", "url": None, "user_id": None, "display_name": "B"}],
              "distinct": False, "metadata": {}},
             {"id": "layer:///conversations/c1", "participants": ["a", "b/c"], "distinct": False,
              "metadata": {}},
             source="2.0", target="1.1")
