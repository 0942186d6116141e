"""R22 — A v1 ``sender.name`` becomes the ``sender_id`` of a bot identity (2.0).

Spec §5.2/§6, §14.4 R22: "sending from an arbitrary string name is no longer supported; an
Identity must be created even for a Bot". The name maps through ``Options.bots`` (configurable
name → bot user id, deterministic ``bot-<slug>`` default) and the translation returns an
:class:`~layer_migrate.engine.EnsureIdentity` prerequisite (``POST …/users/<bot>/identity``
``{"display_name": N, "identity_type": "bot"}``). With ``provision_bot_as_participant`` it also
asks for the bot to be added to the conversation (INFERRED risk of rejection otherwise) — both are
done by the declared ``bot_identity`` action, so the codemod and the engine agree.
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.sender.name_to_bot", spec="R22", step=("1.1", "2.0"),
            endpoints={"messages.send", "announcements.send"}, direction="request",
            lossy="clients now see a real bot identity instead of user_id null")
rule.request_field("sender.name", "bot_identity", to="sender_id")

rule.example("request", {"sender": {"name": "t-bone"}, "parts": [{"body": "Hi", "mime_type": "text/plain"}]},
             {"sender_id": "layer:///identities/bot-t-bone",
              "parts": [{"body": "Hi", "mime_type": "text/plain"}]},
             endpoint="messages.send", method="POST", path="/apps/A/conversations/C/messages",
             note="prerequisite: identity bot-t-bone (display_name t-bone, identity_type bot)")
rule.example("request", {"sender": {"name": "Support"}, "parts": []},
             {"sender_id": "layer:///identities/support-bot", "parts": []},
             endpoint="messages.send", method="POST", path="/apps/A/conversations/C/messages",
             options={"bots": {"Support": "support-bot"}})
