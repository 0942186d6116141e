"""R07 — ``If-None-Match`` de-duplication passes through unchanged.

Spec §1.6, §14.1 R07: identical in every version. When one v1 request fans out (R22 bot
provisioning + send) the header stays only on the final create: prerequisite requests
(:class:`layer_migrate.engine.EnsureIdentity`) never carry it.
"""

from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("hdr.dedupe", spec="R07", step=ALL_STEPS, endpoints={"*"}, direction="both")

rule.example("request", {"participants": ["a"]}, {"participants": ["layer:///identities/a"]},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations",
             headers={"if-none-match": "7a0aefb8-3c97-11e4-baad-164230d1df67"},
             after_headers={"if-none-match": "7a0aefb8-3c97-11e4-baad-164230d1df67"})
