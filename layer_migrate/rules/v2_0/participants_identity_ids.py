"""R14 — Conversation ``participants`` in requests are Layer Identity ids (2.0).

Spec §4.2, §14.3 R14: ``["a","b"]`` → ``["layer:///identities/a", …]`` (R11 encoding, never
double-prefixed). Lossless. A strict server answers bare ids with ``422 invalid_property``.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.participants.identity_ids", spec="R14", step=("1.1", "2.0"),
            endpoints={"conversations.create"}, direction="request")
rule.request_field("participants[]", "identity_id")

rule.example("request", {"participants": ["a", "b"], "distinct": False, "metadata": {"title": "Coffee"}},
             {"participants": ["layer:///identities/a", "layer:///identities/b"], "distinct": False,
              "metadata": {"title": "Coffee"}},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations")
rule.example("request", {"participants": ["namespace/12345", "layer:///identities/x"]},
             {"participants": ["layer:///identities/namespace%2F12345", "layer:///identities/x"]},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations")
rule.example("request", {"participants": ["a", 5]}, error="invalid_property",
             endpoint="conversations.create", method="POST", path="/apps/A/conversations")
