"""The codemod reads *what* changes from the rulebook's declared facts."""

from layer_migrate.codemod.facts_table import FALLBACK_FACTS, build_index
from layer_migrate.rulebook import load_rulebook
from layer_migrate.versions import PLATFORM_MEDIA_TYPE, WEBHOOKS_MEDIA_TYPE


def test_rule_ids_come_from_the_rulebook():
    rulebook_ids = {r.id for r in load_rulebook()}
    idx = build_index("3.0")
    for rule_id in ("v2.participants.identity_ids", "v2.sender.user_id", "v2.blocks.post_to_patch",
                    "v2.patch.participants.set", "hdr.accept.v3"):
        assert rule_id in idx.rules
        assert rule_id in rulebook_ids
    assert idx.spec_of("v2.participants.identity_ids") == "R14"


def test_fallback_only_fills_gaps():
    idx = build_index("3.0")
    # rule facts the rulebook declares are taken from it, not from the fallback table
    assert not any(u.startswith("v2.participants.identity_ids:") for u in idx.fallback_used)
    assert all(rule in {r for r, *_ in FALLBACK_FACTS} for rule in (u.split(":")[0] for u in idx.fallback_used))


def test_target_version_selects_steps():
    assert "hdr.accept.v3" not in build_index("2.0").rules
    assert build_index("2.0").media_types[PLATFORM_MEDIA_TYPE].from_versions == ("1.0", "1.1")
    assert set(build_index("3.0").media_types[PLATFORM_MEDIA_TYPE].from_versions) == {"1.0", "1.1", "2.0"}


def test_webhooks_media_type_only_under_its_own_opt_in_rule():
    assert WEBHOOKS_MEDIA_TYPE not in build_index("3.0").media_types
    enabled = build_index("3.0", enabled=["wh.rest"])
    assert enabled.media_types[WEBHOOKS_MEDIA_TYPE].rule == "wh.rest"


def test_route_facts_drive_block_rewrites():
    idx = build_index("3.0")
    assert idx.routes["blocks.create"].to_method == "PATCH"
    assert idx.routes["blocks.delete"].body_op == "remove"
