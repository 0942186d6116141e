"""R10 — Old v1 servers created unknown users on the fly; newer ones answer ``404`` (opt-in emulation).

Spec §1.8, §14.1 R10 (behavioural, 1.x before 2016-06-21): with ``Options.autocreate_users`` a
``404`` on a ``/apps/:app/users/:user_id/…`` endpoint for a v1 client comes back with an
:class:`~layer_migrate.engine.EnsureIdentity` prerequisite (display name = user id) in
``ResponseTranslation.prerequisites``: fulfil it and retry the original request. Lossy only in
that an Identity now exists.
"""

from layer_migrate.prerequisites import EnsureIdentity
from layer_migrate.rulebook import ALL_STEPS, Context, Rule

rule = Rule("err.user_autocreate", spec="R10", step=ALL_STEPS, endpoints={"*"}, direction="response",
            lossy="an identity is created for the unknown user")


@rule.response_down
def autocreate(ctx: Context) -> bool:
    if not ctx.options.autocreate_users or ctx.status != 404 or ctx.target not in ("1.0", "1.1"):
        return False
    user = ctx.params.get("user")
    if not user:
        return False
    ctx.require(EnsureIdentity(user, user, identity_type="user"))
    ctx.note_lossy(rule.id, f"unknown user {user!r}: create the identity and retry")
    return True


rule.example("response", {"id": "not_found", "code": 102, "message": "User not found",
                          "url": "https://developer.layer.com/docs/platform"},
             {"id": "not_found", "code": 102, "message": "User not found",
              "url": "https://developer.layer.com/docs/platform"},
             endpoint="badge.get", method="GET", path="/apps/A/users/ghost/badge", status=404, after_status=404,
             source="3.0", target="1.1", options={"autocreate_users": True})
