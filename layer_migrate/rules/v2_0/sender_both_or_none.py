"""R23 — v1's own refusals of message senders are answered locally (both keys, or none).

Spec §5.2, §14.4 R23: since 2015-07-10 a body with both ``sender.name`` and ``sender.user_id`` is
an error (INFERRED ``422 invalid_property``), and a body without ``sender`` is ``422
missing_property sender`` (OBS). Forwarding would give a 2.0 error about ``sender_id`` instead.
Explicit ``null`` keys (``{"user_id": "u", "name": null}``) are accepted and dropped, and so are
the profile keys some SDKs send beside them (LayerClient's ``Sender.as_dict``: ``display_name``,
``avatar_url``, …): v1 took and ignored them, and 2.0 has no ``sender`` to carry them.
With ``Options.emulate_v1_errors=False`` such bodies are forwarded untranslated.
"""

from layer_migrate.rulebook import Rule, check_sender

rule = Rule("v2.sender.both_or_none", spec="R23", step=("1.1", "2.0"), endpoints={"messages.send"},
            direction="request", order=20)


#: check_sender itself is the hook (its default allows ``sender.user_id``): no wrapper frame on
#: every message send.
validate = rule.request_up(check_sender)


_PATH = "/apps/A/conversations/C/messages"
rule.example("request", {"sender": {"user_id": "u", "name": "Bot"}, "parts": []}, error="invalid_property",
             endpoint="messages.send", method="POST", path=_PATH)
rule.example("request", {"parts": []}, error="missing_property", endpoint="messages.send", method="POST",
             path=_PATH)
rule.example("request", {"sender": {"user_id": "u", "name": None}, "parts": []},
             {"sender_id": "layer:///identities/u", "parts": []}, endpoint="messages.send", method="POST",
             path=_PATH)
rule.example("request", {"sender": {"display_name": "Alice A.", "avatar_url": "https://x/a.png", "user_id": "u"},
                         "parts": []},
             {"sender_id": "layer:///identities/u", "parts": []}, endpoint="messages.send", method="POST",
             path=_PATH)
