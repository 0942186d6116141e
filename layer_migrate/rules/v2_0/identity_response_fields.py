"""R43 — Identity reads gained ``id``/``user_id``/``url``/type (2.0); strict v1 clients get them removed.

Spec §3.3/§3.4/§10, §14.7 R43: ``GET …/users/:uid/identity`` and the ``identity`` inside
``GET …/users/:uid``. ``Options.strip_identity_fields=False`` leaves them (harmless extras).
"""

from typing import Any

from layer_migrate.rulebook import Context, Rule

rule = Rule("v2.identity.response_fields", spec="R43", step=("1.1", "2.0"),
            endpoints={"identity.get", "users.get"}, direction="response")

_NEW = ("id", "user_id", "url", "type", "identity_type")


def strip(identity: Any, ctx: Context) -> Any:
    if not isinstance(identity, dict) or not ctx.options.strip_identity_fields:
        return identity
    if not any(k in identity for k in _NEW):
        return identity
    return {k: v for k, v in identity.items() if k not in _NEW}


rule.object_down("identity")(strip)


@rule.object_down("user")
def user(obj: dict[str, Any], ctx: Context) -> Any:
    ident = obj.get("identity")
    new = strip(ident, ctx)
    return obj if new is ident else {**obj, "identity": new}


_FRODO = {"display_name": "Frodo the Dodo", "avatar_url": None, "first_name": "Frodo", "last_name": None,
          "phone_number": None, "email_address": None, "public_key": None, "metadata": None}
rule.example("response",
             {"id": "layer:///identities/frodo", "url": "https://api.layer.com/apps/A/users/frodo/identity",
              "user_id": "frodo", **_FRODO, "identity_type": "user"},
             _FRODO, endpoint="identity.get", method="GET", path="/apps/A/users/frodo/identity",
             source="3.0", target="1.1")
rule.example("response",
             {"id": "blake", "identity": {"id": "layer:///identities/blake", "user_id": "blake",
                                          "display_name": "Blake"}, "suspended": False},
             {"id": "blake", "identity": {"display_name": "Blake"}, "suspended": False},
             endpoint="users.get", method="GET", path="/apps/A/users/blake", source="2.0", target="1.0")
