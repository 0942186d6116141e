"""R02 — Accept ``version=1.x`` → ``version=2.0`` for every Platform endpoint.

Spec §1.2, §14.1 R02: same media type ``application/vnd.layer+json``; spacing and extra
parameters (snap-swap's ``charset``) are normalised to the canonical ``; version=X.Y`` form.
Responses going back down carry the client's version in their Content-Type (other parameters kept).
"""

from layer_migrate.rulebook import Rule
from layer_migrate.versions import PLATFORM_MEDIA_TYPE

rule = Rule("hdr.accept.v2", spec="R02", step=("1.1", "2.0"), endpoints={"*"}, direction="both")
rule.media_type(PLATFORM_MEDIA_TYPE, ("1.0", "1.1"))

rule.example("request", None, None, endpoint="conversations.get", method="GET",
             path="/apps/A/conversations/C", source="1.1", target="2.0",
             headers={"accept": "application/vnd.layer+json;charset=UTF-8;version=1.1"},
             after_headers={"accept": "application/vnd.layer+json; version=2.0"})
rule.example("response", None, None, endpoint="conversations.get", method="GET",
             path="/apps/A/conversations/C", source="2.0", target="1.0",
             headers={"content-type": "application/vnd.layer+json; version=2.0; charset=utf-8"},
             after_headers={"content-type": "application/vnd.layer+json; version=1.0; charset=utf-8"})
