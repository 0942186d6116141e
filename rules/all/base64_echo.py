"""R32 — Base64 parts may be echoed decoded (OBS 2016) or encoded (docs); neither is normalised.

Spec §5.3, §14.4 R32: v1 clients were exposed to both, so the engine leaves part bodies and
``encoding`` exactly as the server sent them. Lossless.
"""

from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("v1.base64_echo", spec="R32", step=ALL_STEPS, endpoints={"messages.send"}, direction="response")

rule.example("message", {"id": "layer:///messages/m",
                         "parts": [{"mime_type": "image/jpeg", "body": "any carnal pleasure"},
                                   {"mime_type": "image/jpeg", "body": "YW55", "encoding": "base64"}]},
             {"id": "layer:///messages/m",
              "parts": [{"mime_type": "image/jpeg", "body": "any carnal pleasure"},
                        {"mime_type": "image/jpeg", "body": "YW55", "encoding": "base64"}]},
             source="3.0", target="1.0")
