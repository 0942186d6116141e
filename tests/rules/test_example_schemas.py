"""Rule examples' request bodies are valid for their versions' schemas (before: v1, after: target)."""

import pytest

from layer_migrate.rulebook import ALL_STEPS, load_rulebook
from layer_migrate.schemas import validate

REQUEST_KIND = {"conversations.create": "conversation_request", "messages.send": "message_request",
                "announcements.send": "announcement_request", "notifications.send": "notification_request",
                "conversations.patch": "conversation_patch", "users.patch": "user_patch",
                "blocks.create": "block_request", "identity.create": "identity_request",
                "webhooks.create": "webhook_request"}
AFTER_ENDPOINT = {"blocks.create": "users.patch", "blocks.delete": "users.patch"}

CASES = [(r, i, ex) for r in load_rulebook() for i, ex in enumerate(r.examples)
         if ex.kind == "request" and ex.error is None and ex.way == "up"]


@pytest.mark.parametrize(("rule", "index", "ex"), CASES, ids=[f"{r.spec}-{i}" for r, i, _ in CASES])
def test_request_example_bodies_validate(rule, index, ex):
    source = ex.source or "1.1"
    target = ex.target or (rule.step[1] if rule.step != ALL_STEPS else "3.0")
    before_kind = REQUEST_KIND.get(ex.endpoint)
    after_kind = REQUEST_KIND.get(AFTER_ENDPOINT.get(ex.endpoint, ex.endpoint))
    half_migrated = "layer:///identities/" in repr(ex.before)  # R11/R14: ids already in identity form
    if before_kind and ex.before is not None and not half_migrated:
        assert validate(source, before_kind, ex.before) == []
    if after_kind and ex.after is not None:
        assert validate(target, after_kind, ex.after) == []
