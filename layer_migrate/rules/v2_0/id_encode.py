"""R11 — User ids become identity ids with encodeURIComponent semantics (2.0).

Spec §3.1, §14.2 R11: ``ID(u) = "layer:///identities/" + encodeURIComponent(u)``, applied by every
rule that turns a v1 user id into an identity reference (R14, R16, R21, R26, R34, R37, R38–R41).
An id already in identity form is never prefixed again (half-migrated clients send both).
Implemented once in :func:`layer_migrate.identity.identity_id`.
"""

from layer_migrate.rulebook import Rule

rule = Rule("id.encode", spec="R11", step=("1.1", "2.0"), direction="request")

rule.example("request", {"participants": ["a b+c%?", "it's(ok)!~*", "layer:///identities/already"]},
             {"participants": ["layer:///identities/a%20b%2Bc%25%3F", "layer:///identities/it's(ok)!~*",
                               "layer:///identities/already"]},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations")
