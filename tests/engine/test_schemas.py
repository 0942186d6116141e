"""The shipped schema files equal what schemas/_build.py builds, and reject what they must."""

import json

from layer_migrate.schemas import HERE, kinds, validate
from layer_migrate.schemas._build import build, render


def test_schema_files_are_current():
    built = build()
    on_disk = {f"{p.parent.name}/{p.name}" for p in HERE.glob("*/*.json")}
    assert on_disk == set(built), "run `python -m layer_migrate.schemas._build`"
    for rel, schema in built.items():
        assert (HERE / rel).read_text(encoding="utf-8") == render(schema), rel


def test_required_kinds_exist_for_every_version():
    for v in ("1.0", "1.1", "2.0", "3.0"):
        ks = set(kinds(v))
        assert {"conversation", "conversation_request", "message", "message_request", "part", "announcement",
                "announcement_request", "notification_request", "blocks", "identity", "webhook_delivery",
                "webhook_request", "error"} <= ks
    assert "block_request" in kinds("1.1") and "block_request" not in kinds("3.0")


def test_v1_message_rejects_3_0_only_fields_and_basic_identity_sender():
    msg = {"id": "layer:///messages/m", "parts": [], "sender": {"user_id": "u", "name": None}}
    assert validate("1.1", "message", msg) == []
    assert validate("1.1", "message", {**msg, "updated_at": "t"})
    assert validate("1.1", "message", {**msg, "sender": {"id": "layer:///identities/u", "user_id": "u"}})
    assert validate("1.1", "message", {**msg, "sender": {"user_id": "u", "name": "both"}})
    assert validate("3.0", "message", {**msg, "sender": {"id": "layer:///identities/u", "user_id": "u"},
                                       "recipient_status": {"layer:///identities/u": "read"}}) == []
    assert validate("3.0", "message", {**msg, "sender": {"id": "layer:///identities/u"},
                                       "recipient_status": {"u": "read"}})


def test_v2_patch_requires_ids_and_set_only_clears():
    ok = [{"operation": "add", "property": "participants", "id": "layer:///identities/a"},
          {"operation": "set", "property": "participants", "value": []},
          {"operation": "set", "property": "metadata.a", "value": "b"}]
    assert validate("2.0", "conversation_patch", ok) == []
    assert validate("2.0", "conversation_patch", [{"operation": "add", "property": "participants", "value": "a"}])
    assert validate("2.0", "conversation_patch", [{"operation": "set", "property": "participants", "value": ["a"]}])
    assert validate("1.1", "conversation_patch", [{"operation": "set", "property": "participants",
                                                   "value": ["a"]}]) == []


def test_errors_name_the_path():
    errs = validate("2.0", "conversation_request", {"participants": ["a"]})
    assert errs and errs[0].startswith("participants[0]:")
    assert json.loads(json.dumps(errs))
