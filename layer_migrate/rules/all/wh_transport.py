"""R49 — Re-signed webhook deliveries for the v1 consumer (HMAC-SHA1 hex, 1.0 headers).

Spec §12.2, §14.8 R49: a translator that rewrites a delivery body must verify the upstream
signature with its own secret, then re-sign the new raw body with the consumer's secret and set
``content-type: application/vnd.layer.webhooks+json; version=1.0`` and ``user-agent:
layer-webhooks/1.0``, keeping ``layer-webhook-request-id`` (retry dedupe) and ``layer-webhook-id``.
Helpers: :func:`layer_migrate.webhook_events.sign`, ``verify`` and ``delivery_headers``.
"""

from layer_migrate.rulebook import ALL_STEPS, Rule

rule = Rule("wh.transport", spec="R49", step=ALL_STEPS, endpoints=(), direction="webhook")

# HMAC-SHA1("secret", b'{"a":1}') — any implementation of §12.2 must agree.
rule.example("sign", {"secret": "secret", "raw": '{"a":1}'}, "f8446672f033e4b2beafc5ca3a71eafcd2cafb6e")
