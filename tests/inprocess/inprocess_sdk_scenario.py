"""Every server-talking method of the unmodified PyPI ``LayerClient==0.1.10`` SDK, in one session.

The SDK hard-codes ``https://api.layer.com`` and calls module-level ``requests.request``; this
script never points it anywhere — whatever installation is active (``install()`` in-process, or
``layer-migrate run`` around ``python inprocess_sdk_scenario.py APP TOKEN``) decides where the
bytes go. Results are plain JSON with generated ids and timestamps replaced, so a run against the
emulator at 1.0 and a migrated run against the emulator at 3.0 compare with ``==``.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")

#: step name → the PlatformClient method it exercises (each method at least once).
METHODS = {
    "create_conversation": "create_conversation", "create_distinct": "create_conversation",
    "get_conversation": "get_conversation", "update_conversation": "update_conversation",
    "get_conversations": "get_conversations", "send_as_bot": "send_message",
    "send_as_participant": "send_message", "send_with_recipient_overrides": "send_message",
    "get_messages": "get_messages", "send_message_receipt": "send_message_receipt",
    "replace_identity": "replace_identity", "get_identity": "get_identity",
    "update_badge": "update_user_external_badge_count", "prepare_rich_content": "prepare_rich_content",
    "send_announcement": "send_announcement", "delete_message": "delete_message",
    "delete_conversation": "delete_conversation", "get_deleted_conversation": "get_conversation",
}


def plain(value: Any) -> Any:
    """SDK objects → JSON-able data, ids and times normalised."""
    import requests

    if isinstance(value, requests.Response):  # the SDK returns the raw response for empty bodies
        return {"http_status": value.status_code, "body": value.text}
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "<time>"
    if isinstance(value, str):
        return "<time>" if TIME.match(value) else UUID.sub("<uuid>", value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {"type": type(value).__name__, **plain(vars(value))}
    return value


def run(app_id: str, token: str) -> dict[str, Any]:
    """Drive every method; each step's result or the SDK's ``LayerPlatformException``."""
    from LayerClient import LayerClient as lc

    client = lc.PlatformClient(app_id, token)
    out: dict[str, Any] = {}
    ctx: dict[str, Any] = {}

    def step(name: str, fn: Any) -> Any:
        try:
            result = fn()
        except lc.LayerPlatformException as exc:
            out[name] = {"error": {"http_code": exc.http_code, "code": exc.code, "id": exc.error_id,
                                   "message": plain(str(exc))}}
            return None
        except Exception as exc:  # the SDK itself broke (e.g. a missing earlier result)
            out[name] = {"crash": plain(f"{type(exc).__name__}: {exc}")}
            return None
        out[name] = {"ok": plain(result)}
        return result

    conv = step("create_conversation", lambda: client.create_conversation(
        ["alice", "bob"], distinct=False, metadata={"topic": "billing", "n": "1"}))
    step("create_distinct", lambda: client.create_conversation(["alice", "carol"], distinct=True))
    if conv is not None:
        ctx["cid"] = conv.uuid()
    step("get_conversation", lambda: client.get_conversation(ctx["cid"]))
    step("update_conversation", lambda: client.update_conversation(ctx["cid"], metadata={"topic": "refunds"}))
    step("get_conversations", lambda: client.get_conversations("alice", page_size=10, sort_by="created_at"))
    msg = step("send_as_bot", lambda: client.send_message(
        conv, lc.Sender(name="Support"), [lc.MessagePart("Hello from support"),
                                          lc.MessagePart("aGk=", mime="image/png", encoding="base64")],
        notification=lc.PushNotification("New message", sound="chime.aiff")))
    if msg is not None:
        ctx["mid"] = msg.uuid()
    step("send_as_participant", lambda: client.send_message(
        conv, lc.Sender(id="alice"), [lc.MessagePart("hi bob")]))
    step("send_with_recipient_overrides", lambda: client.send_message(
        conv, lc.Sender(id="bob"), [lc.MessagePart("hi alice")],
        notification=lc.PushNotification("Bob wrote", recipients={"alice": lc.PushNotification("Bob!")})))
    step("get_messages", lambda: client.get_messages(ctx["cid"], page_size=50))
    step("send_message_receipt", lambda: client.send_message_receipt("bob", ctx["mid"], lc.LayerMessageReceipt.READ))
    step("replace_identity", lambda: client.replace_identity(lc.Sender(
        id="alice", display_name="Alice A.", first_name="Alice", last_name="Anders",
        email_address="alice@example.com", metadata={"team": "blue"})))
    step("get_identity", lambda: client.get_identity("alice"))
    step("update_badge", lambda: client.update_user_external_badge_count("alice", 3))
    step("prepare_rich_content", lambda: client.prepare_rich_content(conv, "image/png", 4096))
    step("send_announcement", lambda: client.send_announcement(
        lc.Sender(name="Admin"), ["alice", "bob"], [lc.MessagePart("Maintenance tonight")]))
    step("delete_message", lambda: client.delete_message(ctx["cid"], ctx["mid"]))
    step("delete_conversation", lambda: client.delete_conversation(ctx["cid"]))
    step("get_deleted_conversation", lambda: client.get_conversation(ctx["cid"]))
    return out


if __name__ == "__main__":
    json.dump(run(sys.argv[1], sys.argv[2]), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
