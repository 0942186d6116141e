"""R13 — ``:user_id`` path segments stay plain user ids, percent-encoded, in every version.

Spec §3.1, §14.2 R13: ``namespace/12345`` → ``/users/namespace%2F12345/…``; never an identity URI
in a path. Paths the engine rebuilds (R38/R39) re-encode with
:func:`layer_migrate.identity.path_user_id`; other paths pass through as the client encoded them.
"""

from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("id.path_param", spec="R13", step=ALL_STEPS, endpoints={"*"}, direction="request")

rule.example("request", {"user_id": "x"},
             [{"operation": "add", "property": "blocks", "id": "layer:///identities/x"}],
             endpoint="blocks.create", method="POST", path="/apps/A/users/namespace%2F12345/blocks",
             after_method="PATCH", after_path="/apps/A/users/namespace%2F12345")
