"""R03 — Accept ``version=2.0`` → ``version=3.0`` (and the webhooks media type likewise, R53).

Spec §1.2, §14.1 R03 (same as R02 with 3.0); §12.1: the Webhooks REST API negotiates
``application/vnd.layer.webhooks+json`` the same way. Responses going back down carry the
client's version in their Content-Type (webhooks: 1.0, which has no 1.1).
"""

from layer_migrate.rulebook import Rule
from layer_migrate.versions import PLATFORM_MEDIA_TYPE, WEBHOOKS_MEDIA_TYPE

rule = Rule("hdr.accept.v3", spec="R03", step=("2.0", "3.0"), endpoints={"*"}, direction="both")
rule.media_type(PLATFORM_MEDIA_TYPE, ("2.0",))
rule.media_type(WEBHOOKS_MEDIA_TYPE, ("2.0",))

rule.example("request", None, None, endpoint="conversations.get", method="GET",
             path="/apps/A/conversations/C", source="1.1", target="3.0",
             headers={"accept": "application/vnd.layer+json; version=1.1"},
             after_headers={"accept": "application/vnd.layer+json; version=3.0"})
rule.example("response", None, None, endpoint="conversations.get", method="GET",
             path="/apps/A/conversations/C", source="3.0", target="1.1",
             headers={"content-type": "application/vnd.layer+json; version=3.0"},
             after_headers={"content-type": "application/vnd.layer+json; version=1.1"})
rule.example("response", [], [], endpoint="webhooks.list", method="GET", path="/apps/A/webhooks",
             source="3.0", target="1.1",
             headers={"content-type": "application/vnd.layer.webhooks+json; version=3.0"},
             after_headers={"content-type": "application/vnd.layer.webhooks+json; version=1.0"})
