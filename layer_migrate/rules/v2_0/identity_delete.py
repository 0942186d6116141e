"""R45 — ``DELETE …/users/:uid/identity`` passes through (absent from the 2.0 draft docs only).

Spec §3.4, §14.7 R45: present in 1.x and 3.0 docs; INFERRED still supported by 2.0 (204/404).
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.identity.delete", spec="R45", step=("1.1", "2.0"), endpoints={"identity.delete"},
            direction="both")

rule.example("request", None, None, endpoint="identity.delete", method="DELETE",
             path="/apps/A/users/frodo/identity", after_method="DELETE", after_path="/apps/A/users/frodo/identity")
