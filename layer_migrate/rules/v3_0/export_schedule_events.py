"""R54 — A scheduled export's ``events`` use webhook 1.0 names; 3.0 gets the R50 names (INFERRED).

Spec §10, §14.8 R54: ``PUT /apps/:app/export_schedule`` ``{"interval", "events"}``. Unverified:
the event names of 2.0/3.0 schedules were not recovered; this follows the webhook naming.
"""

from layer_migrate.rulebook import Context, Rule
from layer_migrate.webhook_events import events_up

rule = Rule("export.schedule_events", spec="R54", step=("2.0", "3.0"), endpoints={"export_schedule.put"},
            direction="request")


@rule.request_up
def schedule(ctx: Context) -> bool:
    body = ctx.body
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        return False
    new = events_up(body["events"])
    if new == body["events"]:
        return False
    ctx.body = {**body, "events": new}
    return True


rule.example("request", {"interval": "daily", "events": ["message.sent", "conversation.created"]},
             {"interval": "daily", "events": ["Message.created", "Conversation.created"]},
             endpoint="export_schedule.put", method="PUT", path="/apps/A/export_schedule", target="3.0")
