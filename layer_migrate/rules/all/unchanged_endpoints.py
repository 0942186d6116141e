"""R48 — Endpoints whose bodies never changed: only the Accept header moves.

Spec §1.10/§10, §14.7 R48: badges, session TTL, delete sessions, suspension PATCH, exports, export
security/schedule, rich content, metadata PATCH and conversation DELETE (suspension GET also R43).
"""

from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("v2.unchanged_endpoints", spec="R48", step=ALL_STEPS,
            endpoints={"badge.put", "badge.get", "app.patch", "sessions.delete", "exports.create",
                       "exports.list", "exports.delete", "exports.status", "export_security.put",
                       "export_security.get", "export_schedule.get", "content.create", "content.get",
                       "conversations.delete"}, direction="both")

rule.example("request", {"external_unread_count": 13}, {"external_unread_count": 13}, endpoint="badge.put",
             method="PUT", path="/apps/A/users/u/badge", target="3.0",
             after_headers={"accept": "application/vnd.layer+json; version=3.0"})
rule.example("request", [{"operation": "set", "property": "session_ttl_in_seconds", "value": 3600}],
             [{"operation": "set", "property": "session_ttl_in_seconds", "value": 3600}],
             endpoint="app.patch", method="PATCH", path="/apps/A", target="3.0",
             headers={"content-type": "application/vnd.layer-patch+json"})
