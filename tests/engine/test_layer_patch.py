"""Layer-Patch (spec §2): parsing, validation errors, application, both dot escapings."""

import pytest

from layer_migrate import LayerError
from layer_migrate.layer_patch import apply, join_property, parse, split_property


@pytest.mark.parametrize(("prop", "path"), [
    ("metadata.stats.counter", ("metadata", "stats", "counter")),
    ("recipient_status.fred\\.flinstone", ("recipient_status", "fred.flinstone")),
    ("recipient_status.fred..flinstone", ("recipient_status", "fred.flinstone")),
    ("participants", ("participants",)),
])
def test_split_property_both_escapings(prop, path):
    assert split_property(prop) == path
    assert split_property(join_property(path)) == path


def test_metadata_example_from_spec():
    doc = {"participants": ["a"], "metadata": {"stats": {"counter": "9"}}}
    body = [{"operation": "set", "property": "metadata.stats.counter", "value": "10"},
            {"operation": "set", "property": "metadata.admin",
             "value": {"user_id": "fred", "hours": {"start": "9", "end": "5"}}},
            {"operation": "delete", "property": "metadata.admin"},
            {"operation": "set", "property": "metadata.a.b.c", "value": "deep"}]
    out = apply(doc, body)
    assert out == {"participants": ["a"], "metadata": {"stats": {"counter": "10"}, "a": {"b": {"c": "deep"}}}}
    assert doc == {"participants": ["a"], "metadata": {"stats": {"counter": "9"}}}


def test_add_remove_have_set_semantics():
    doc = {"participants": ["a", "b"]}
    out = apply(doc, [{"operation": "add", "property": "participants", "value": "a"},
                      {"operation": "add", "property": "participants", "value": "c"},
                      {"operation": "remove", "property": "participants", "value": "zzz"},
                      {"operation": "remove", "property": "participants", "value": "b"}])
    assert out == {"participants": ["a", "c"]}
    out = apply({"blocks": None}, [{"operation": "add", "property": "blocks", "id": "layer:///identities/x"}])
    assert out == {"blocks": ["layer:///identities/x"]}


def test_set_clears_then_adds_by_id():
    doc = {"participants": [{"id": "layer:///identities/a"}, {"id": "layer:///identities/b"}]}
    out = apply(doc, [{"operation": "remove", "property": "participants", "id": "layer:///identities/a"},
                      {"operation": "set", "property": "participants", "value": []},
                      {"operation": "add", "property": "participants", "id": "layer:///identities/c"}])
    assert out == {"participants": ["layer:///identities/c"]}


def test_dotted_key_set():
    out = apply({"recipient_status": {}}, [{"operation": "set", "property": "recipient_status.fred\\.flinstone",
                                            "value": "read"}])
    assert out == {"recipient_status": {"fred.flinstone": "read"}}


@pytest.mark.parametrize(("body", "error", "prop"), [
    ({"operation": "set"}, "invalid_request", "body"),
    ([5], "invalid_request", "operations[0]"),
    ([{"property": "x", "value": 1}], "missing_property", "operations[0].operation"),
    ([{"operation": "move", "property": "x", "value": 1}], "invalid_property", "operations[0].operation"),
    ([{"operation": "add", "property": "participants"}], "missing_property", "operations[0].value"),
    ([{"operation": "add", "property": "participants", "value": {"a": 1}}], "invalid_property", "operations[0].value"),
    ([{"operation": "delete", "property": "metadata"}], "invalid_operation", "operations[0].property"),
    ([{"operation": "add", "property": "participants", "value": "a", "index": 0}], "invalid_property",
     "operations[0].index"),
    ([{"operation": "set", "property": "", "value": 1}], "invalid_property", "operations[0].property"),
    ([{"operation": "set", "property": "x", "value": 1, "colour": "red"}], "invalid_property",
     "operations[0].colour"),
])
def test_bad_operations_are_layer_errors(body, error, prop):
    with pytest.raises(LayerError) as exc:
        parse(body)
    assert exc.value.id == error
    assert exc.value.data == {"property": prop}


def test_unknown_base_property_refused():
    with pytest.raises(LayerError) as exc:
        apply({"metadata": {}}, [{"operation": "set", "property": "colour", "value": "x"}])
    assert exc.value.id == "invalid_property"
    assert apply({}, [{"operation": "set", "property": "colour", "value": "x"}], allow_new_base=True) == {"colour": "x"}
