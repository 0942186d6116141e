"""The identity-id expressions the codemod writes compute exactly ``identity_id`` (R11)."""

import libcst as cst
from hypothesis import given
from hypothesis import strategies as st

from layer_migrate.codemod.identity_expr import IdentityBuilder, already_identity
from layer_migrate.identity import identity_id


def evaluate(expr: cst.BaseExpression, **names):
    from urllib.parse import quote

    code = cst.Module(body=[]).code_for_node(expr)
    return eval(code, {"quote": quote, "identity_id": identity_id, **names})  # noqa: S307 - our own output


@given(st.text(min_size=1, max_size=40))
def test_inline_expression_matches_encode_uri_component(user_id):
    builder = IdentityBuilder("inline")
    assert evaluate(builder.wrap(cst.Name("u")), u=user_id) == identity_id(user_id)
    assert builder.needs_import == {("urllib.parse", "quote")}


@given(st.text(min_size=1, max_size=40))
def test_literals_are_computed_at_rewrite_time(user_id):
    literal = cst.SimpleString(repr(user_id)) if "\\" not in repr(user_id) else None
    if literal is None:
        return
    out = IdentityBuilder("inline").wrap(literal)
    assert evaluate(out) == identity_id(user_id)


def test_import_style_and_no_double_prefix():
    builder = IdentityBuilder("import")
    out = builder.wrap(cst.Name("u"))
    assert evaluate(out, u="layer:///identities/a") == "layer:///identities/a"
    assert builder.needs_import == {("layer_migrate.identity", "identity_id")}
    for code in ('"layer:///identities/x"', 'f"layer:///identities/{u}"', '"layer:///identities/" + u',
                 "identity_id(u)"):
        node = cst.parse_expression(code)
        assert already_identity(node)
        assert builder.wrap(node) is node
