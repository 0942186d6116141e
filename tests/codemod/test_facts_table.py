"""The codemod reads *what* changes from the rulebook's declared facts."""

from layer_migrate.codemod.facts_table import build_index
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


def test_every_fact_comes_from_a_rule():
    rules = {r.id: r for r in load_rulebook()}
    idx = build_index("3.0")
    for facts in idx.fields.values():
        assert all(f in rules[f.rule].facts for f in facts)
    for facts in idx.patch_ops.values():
        assert all(f in rules[f.rule].facts for f in facts)
    assert all(f in rules[f.rule].facts for f in idx.routes.values())
    assert all(f in rules[f.rule].facts for f in idx.reads.values())
    # response reads the codemod marks are declared by R15/R24/R25
    assert {"v2.participants.basic_identity", "v2.sender.basic_identity", "v2.recipient_status.keys"} <= set(idx.reads)


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
