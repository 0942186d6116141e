"""R01 — Accept ``version=1.0`` ↔ ``version=1.1``; bodies untouched (1.1 only changed device push).

Spec §1.9, §14.1 R01: the only 1.1 difference is the push notification format delivered to
devices, so the translation is a header rewrite and lossless for JSON.
"""

from layer_migrate.rulebook import Rule
from layer_migrate.versions import PLATFORM_MEDIA_TYPE

rule = Rule("hdr.accept.v1_0-v1_1", spec="R01", step=("1.0", "1.1"), endpoints={"*"}, direction="both")
rule.media_type(PLATFORM_MEDIA_TYPE, ("1.0",))

rule.example("request", None, None, endpoint="conversations.get", method="GET",
             path="/apps/A/conversations/C", source="1.0", target="1.1",
             headers={"accept": "application/vnd.layer+json; version=1.0"},
             after_headers={"accept": "application/vnd.layer+json; version=1.1"})
