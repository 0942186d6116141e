"""R32 — Base64 parts: echoed decoded (OBS 2016) or encoded (docs) — never normalised; invalid base64 refused.

Spec §5.2/§5.3, §14.4 R32: v1 clients were exposed to both echoes, so the engine leaves part bodies
and ``encoding`` exactly as the server sent them (lossless). Going up, a part declared
``"encoding": "base64"`` whose body is not base64, or a part with both ``body`` and ``content``, is
refused with ``422 invalid_property`` naming the part (the v1 server "handles invalid base64
gracefully" since 2015-08-02) instead of being forwarded.
"""

import binascii
from base64 import b64decode
from typing import Any

from layer_migrate.errors import invalid_property
from layer_migrate.rulebook import ALL_STEPS, Context, Rule

rule = Rule("v1.base64_echo", spec="R32", step=ALL_STEPS,
            endpoints={"messages.send", "announcements.send"}, direction="both")


def _check_base64(i: int, part: dict[str, Any]) -> None:
    body = part.get("body")
    try:
        if not isinstance(body, str):
            raise ValueError
        b64decode(body.encode("ascii"), validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise invalid_property(f"parts[{i}].body",
                               f"Message part {i} is declared base64 but its body is not valid base64") from None


@rule.request_up
def validate_parts(ctx: Context) -> bool:
    """The part checks run inline in the hook: it runs on every message send (hot path)."""
    body = ctx.body
    if not isinstance(body, dict) or not ctx.options.emulate_v1_errors:
        return False
    parts = body.get("parts")
    if not isinstance(parts, list):
        return False
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise invalid_property(f"parts[{i}]", f"Message part {i} must be an object")
        if "body" in part and "content" in part:
            raise invalid_property(f"parts[{i}]", f"Message part {i} has both 'body' and 'content'")
        if part.get("encoding") == "base64":
            _check_base64(i, part)
    return False


rule.example("message", {"id": "layer:///messages/m",
                         "parts": [{"mime_type": "image/jpeg", "body": "any carnal pleasure"},
                                   {"mime_type": "image/jpeg", "body": "YW55", "encoding": "base64"}]},
             {"id": "layer:///messages/m",
              "parts": [{"mime_type": "image/jpeg", "body": "any carnal pleasure"},
                        {"mime_type": "image/jpeg", "body": "YW55", "encoding": "base64"}]},
             source="3.0", target="1.0")
rule.example("request", {"sender": {"user_id": "u"},
                         "parts": [{"mime_type": "image/png", "body": "not base64!", "encoding": "base64"}]},
             error="invalid_property", endpoint="messages.send", method="POST",
             path="/apps/A/conversations/C/messages")
