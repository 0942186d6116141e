"""R26 — Per-recipient notification overrides are ``[{"recipient": ID(U), …}]`` (2.0).

Spec §7.2, §14.4 R26: both v1 shapes are accepted — the 2015 map keyed by user id and the 2016
array with ``user_id`` — for messages, announcements and ``POST /notifications``. Lossless
(the map form becomes the array form, as the 1.x docs did in May 2016).
"""

from layer_migrate.rulebook import Rule

rule = Rule("v2.notification.recipient", spec="R26", step=("1.1", "2.0"),
            endpoints={"messages.send", "announcements.send", "notifications.send"}, direction="request")
rule.request_field("notification.recipients", "recipient_overrides")

_N = {"text": "default", "sound": "a.aiff"}
rule.example("request",
             {"recipients": ["klaus_stube"],
              "notification": {**_N, "recipients": {"klaus_stube": {"text": "hallo welt", "sound": "ping.aiff"},
                                                     "luigi_puccini": {"text": "ciao mondo"}}}},
             {"recipients": ["layer:///identities/klaus_stube"],
              "notification": {**_N, "recipients": [
                  {"recipient": "layer:///identities/klaus_stube", "text": "hallo welt", "sound": "ping.aiff"},
                  {"recipient": "layer:///identities/luigi_puccini", "text": "ciao mondo"}]}},
             endpoint="notifications.send", method="POST", path="/apps/A/notifications")
rule.example("request",
             {"recipients": ["luigi_puccini"],
              "notification": {**_N, "recipients": [
                  {"user_id": "luigi_puccini", "title": "New Message", "text": "ciao mondo"}]}},
             {"recipients": ["layer:///identities/luigi_puccini"],
              "notification": {**_N, "recipients": [
                  {"recipient": "layer:///identities/luigi_puccini", "title": "New Message", "text": "ciao mondo"}]}},
             endpoint="notifications.send", method="POST", path="/apps/A/notifications")
