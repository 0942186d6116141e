"""R37 — ``POST /notifications`` ``recipients`` are identity ids (2.0).

Spec §7.3, §14.5 R37: ``["1234"]`` → ``["layer:///identities/1234"]``; the ``notification`` object
goes through R26; the 202 answer is unchanged. Lossless.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.notifications.recipients", spec="R37", step=("1.1", "2.0"),
            endpoints={"notifications.send"}, direction="request")
rule.request_field("recipients[]", "identity_id")

rule.example("request", {"recipients": ["1234", "5678"], "notification": {"text": "Hi"}},
             {"recipients": ["layer:///identities/1234", "layer:///identities/5678"],
              "notification": {"text": "Hi"}},
             endpoint="notifications.send", method="POST", path="/apps/A/notifications")
