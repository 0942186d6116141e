"""R12 — Identity references in responses become user ids: ``UID()`` (2.0).

Spec §3.1, §14.2 R12: prefer the BasicIdentity's ``user_id``, else percent-decode the suffix of
``id`` — which also decodes the Web XDK's stricter encoding (``%21 %27 %28 %29 %7E``), so both
encodings of one user id compare equal. Used by R15, R24, R25, R36, R42, R51.
Implemented once in :func:`layer_migrate.identity.user_id_of`.
"""

from layer_migrate.rulebook import Rule

rule = Rule("id.decode", spec="R12", step=("1.1", "2.0"), direction="response")

rule.example("conversation",
             {"id": "layer:///conversations/c",
              "participants": [{"id": "layer:///identities/it%27s%28ok%29%21%7E"},
                               {"id": "layer:///identities/x", "user_id": "x"}]},
             {"id": "layer:///conversations/c", "participants": ["it's(ok)!~", "x"]},
             source="3.0", target="1.1")
