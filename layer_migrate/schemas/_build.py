"""Builds ``schemas/<version>/<kind>.json`` from the spec's tables (run: ``python -m layer_migrate.schemas._build``).

The schemas are data shipped in the wheel; this module is how they are written, so a change in
one shared definition (BasicIdentity, the part object) reaches every kind and version at once. A
test checks that the files on disk equal what this module builds.

Strictness: v1 shapes (and every *request* body) forbid unknown keys — that is how a downgrade that
forgot a 3.0-only field, or an upgrade that left a v1 key behind, is caught. Newer *response*
objects allow extra keys (servers add fields over time).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DIALECT = "https://json-schema.org/draft/2020-12/schema"
VERSIONS = ("1.0", "1.1", "2.0", "3.0")

S: dict[str, Any] = {"type": "string"}
S_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
ISO = {"type": "string", "minLength": 1}
IDENTITY_ID = {"type": "string", "pattern": "^layer:///identities/.+"}
USER_ID = {"type": "string", "minLength": 1, "not": {"pattern": "^layer:///identities/"}}
METADATA_VALUE: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"$ref": "#/$defs/metadata_value"}}]}

#: What LayerClient 0.1.10 sends inside a v1 message ``sender`` besides ``user_id``/``name``.
SENDER_PROFILE: dict[str, Any] = {k: S_OR_NULL for k in ("display_name", "avatar_url", "first_name", "last_name",
                                                         "phone_number", "email_address")}
SENDER_PROFILE["metadata"] = {"type": ["object", "null"]}

NOTIFICATION_KEYS = ("text", "sound", "title", "category", "title-loc-key", "title-loc-args", "loc-key",
                     "loc-args", "action-loc-key", "apns", "data")


def is_v1(v: str) -> bool:
    return v in ("1.0", "1.1")


def obj(props: dict[str, Any], required: tuple[str, ...] = (), extra: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    if not extra:
        out["additionalProperties"] = False
    return out


def defs(v: str) -> dict[str, Any]:
    """Shared definitions for version ``v``."""
    basic_identity = obj({"id": {"anyOf": [IDENTITY_ID, {"type": "null"}]}, "url": S_OR_NULL,
                          "user_id": S_OR_NULL, "display_name": S_OR_NULL, "avatar_url": S_OR_NULL},
                         ("id",), extra=True)
    recipient_override_v1 = {"type": "object", "properties": {k: {} for k in NOTIFICATION_KEYS}}
    if is_v1(v):
        overrides = {"anyOf": [
            {"type": "object", "additionalProperties": {"type": "object"}},
            {"type": "array", "items": {**recipient_override_v1, "properties": {
                **recipient_override_v1["properties"], "user_id": USER_ID}, "required": ["user_id"],
                "additionalProperties": False}}]}
    else:
        overrides = {"type": "array", "items": {"type": "object", "properties": {
            **{k: {} for k in NOTIFICATION_KEYS}, "recipient": IDENTITY_ID}, "required": ["recipient"],
            "additionalProperties": False}}
    notification = obj({**{k: {} for k in NOTIFICATION_KEYS}, "recipients": overrides})
    content_ref = obj({"id": S, "size": {"type": "integer", "minimum": 0}}, ("id",), extra=True)
    part_request_props: dict[str, Any] = {"mime_type": S, "body": S, "encoding": {"enum": ["base64"]},
                                          "content": content_ref}
    if v == "3.0":
        part_request_props["id"] = {"anyOf": [{"type": "null"}, {
            "type": "string",
            "pattern": "^layer:///messages/[^/]+/parts/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}]}
    part_request = {**obj(part_request_props, ("mime_type",)),
                    "oneOf": [{"required": ["body"], "not": {"required": ["content"]}},
                              {"required": ["content"], "not": {"required": ["body"]}}]}
    if v == "3.0":
        part_id = {"type": "string", "pattern": "^layer:///(messages|announcements)/[^/]+/parts/[^/]+$"}
    else:
        part_id = {"type": "string", "pattern": "^layer:///(messages|announcements)/[^/]+/parts/[0-9]+$"}
    part_props: dict[str, Any] = {"id": part_id, "mime_type": S, "body": S_OR_NULL,
                                  "encoding": {"enum": ["base64", None]},
                                  "content": {"anyOf": [{"type": "null"}, {"type": "object"}]}}
    if v == "3.0":
        part_props.update({"updated_at": S_OR_NULL, "url": S_OR_NULL, "message_url": S_OR_NULL})
    part = obj(part_props, ("mime_type",), extra=not is_v1(v))
    if is_v1(v):
        sender = {"type": "object", "properties": {"user_id": S_OR_NULL, "name": S_OR_NULL},
                  "additionalProperties": False,
                  "oneOf": [{"properties": {"user_id": S, "name": {"type": "null"}}, "required": ["user_id"]},
                            {"properties": {"name": S, "user_id": {"type": "null"}}, "required": ["name"]}]}
        participant = USER_ID
        status_keys: dict[str, Any] = {"type": "string"}
    else:
        sender = {"$ref": "#/$defs/basic_identity"}
        participant = {"anyOf": [{"$ref": "#/$defs/basic_identity"}, IDENTITY_ID]}  # §13 #8 (2.0 doc)
        status_keys = {"pattern": "^layer:///identities/.+"}
    message_props: dict[str, Any] = {
        "id": {"type": "string", "pattern": "^layer:///messages/.+"}, "url": S,
        "conversation": {"anyOf": [{"type": "null"}, obj({"id": S, "url": S}, extra=not is_v1(v))]},
        "parts": {"type": "array", "items": {"$ref": "#/$defs/part"}},
        "sent_at": ISO, "sender": sender,
        "recipient_status": {"anyOf": [{"type": "null"}, {
            "type": "object", "propertyNames": status_keys,
            "additionalProperties": {"enum": ["sent", "delivered", "read"]}}]},
        "received_at": S_OR_NULL, "is_unread": {"type": ["boolean", "null"]},
        "position": {"type": ["integer", "null"]},
        "notification": {"type": ["object", "null"]},
    }
    if not is_v1(v):
        message_props["updated_at"] = S_OR_NULL
    if v == "3.0":
        message_props["receipts_url"] = S_OR_NULL
    message = obj(message_props, ("id", "parts", "sender"), extra=not is_v1(v))
    return {
        "basic_identity": basic_identity, "notification": notification, "part_request": part_request,
        "part": part, "sender": sender, "participant": participant, "message": message,
        "metadata_value": METADATA_VALUE,
        "metadata": {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": {"$ref": "#/$defs/metadata_value"}}]},
        "schedule": obj({"delay_in_seconds": {"type": "number", "minimum": 1, "maximum": 300},
                         "typing_indicator_in_seconds": {"type": "number", "minimum": 1, "maximum": 300}},
                        ("delay_in_seconds",)),
    }


def patch_body(v: str, properties: dict[str, str]) -> dict[str, Any]:
    """A Layer-Patch body; ``properties`` maps list properties to ``"users"`` (identity rules apply)."""
    op = obj({"operation": {"enum": ["add", "remove", "set", "delete"]}, "property": {"type": "string", "minLength": 1},
              "value": {}, "id": S}, ("operation", "property"))
    conds: list[dict[str, Any]] = []
    for prop in properties:
        if is_v1(v):
            then = {"properties": {"value": {"anyOf": [USER_ID, {"type": "array", "items": USER_ID}]}}}
            conds.append({"if": {"properties": {"property": {"const": prop}}}, "then": then})
        else:
            conds.append({"if": {"properties": {"property": {"const": prop}, "operation": {"enum": ["add", "remove"]}}},
                          "then": {"required": ["id"], "properties": {"id": IDENTITY_ID}}})
            conds.append({"if": {"properties": {"property": {"const": prop}, "operation": {"const": "set"}}},
                          "then": {"properties": {"value": {"type": "array", "maxItems": 0}}}})
    if conds:
        op["allOf"] = conds
    return {"type": "array", "items": op}


def kinds(v: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """kind → (title, schema body) for version ``v``."""
    d = defs(v)
    v1 = is_v1(v)
    people = {"type": "array", "items": USER_ID if v1 else IDENTITY_ID}
    out: dict[str, tuple[str, dict[str, Any]]] = {}

    conv_req = {"participants": people, "distinct": {"type": "boolean"}, "metadata": {"$ref": "#/$defs/metadata"}}
    if v == "3.0":
        conv_req["significance"] = {"type": ["object", "null"]}
    out["conversation_request"] = ("POST /apps/:app/conversations body", obj(conv_req, ("participants",)))
    conv = {"id": {"type": "string", "pattern": "^layer:///conversations/.+"}, "url": S, "messages_url": S,
            "created_at": ISO, "participants": {"type": "array", "items": {"$ref": "#/$defs/participant"}},
            "distinct": {"type": "boolean"}, "metadata": {"$ref": "#/$defs/metadata"},
            "last_message": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/message"}]},
            "unread_message_count": {"type": ["integer", "null"]}}
    if v == "3.0":
        conv["significance"] = {}
    out["conversation"] = ("Conversation object", obj(conv, ("id", "participants"), extra=not v1))
    out["conversation_patch"] = ("PATCH /apps/:app/conversations/:cid Layer-Patch body",
                                 patch_body(v, {"participants": "users"}))

    msg_req: dict[str, Any] = {"parts": {"type": "array", "items": {"$ref": "#/$defs/part_request"}},
                               "notification": {"$ref": "#/$defs/notification"}, "schedule": {"$ref": "#/$defs/schedule"}}
    if v1:
        # Real v1 clients send profile keys beside user_id/name (LayerClient 0.1.10's
        # Sender.as_dict): evidence the service accepted them (it ignored them; §5.2 names none).
        msg_req["sender"] = {**d["sender"], "properties": {**d["sender"]["properties"], **SENDER_PROFILE}}
        out["message_request"] = ("POST …/conversations/:cid/messages body", obj(msg_req, ("sender", "parts")))
    else:
        msg_req["sender_id"] = IDENTITY_ID
        out["message_request"] = ("POST …/conversations/:cid/messages body", obj(msg_req, ("sender_id", "parts")))
    out["message"] = ("Message object", {"$ref": "#/$defs/message"})
    out["part"] = ("MessagePart object", {"$ref": "#/$defs/part"})
    out["part_request"] = ("MessagePart in a send request", {"$ref": "#/$defs/part_request"})

    ann_req: dict[str, Any] = {"recipients": people, "parts": msg_req["parts"],
                               "notification": {"$ref": "#/$defs/notification"}}
    if v1:
        ann_req["sender"] = obj({"name": S}, ("name",))
        out["announcement_request"] = ("POST /apps/:app/announcements body", obj(ann_req, ("recipients", "sender", "parts")))
        ann_sender: dict[str, Any] = {"type": "object", "properties": {"name": S, "user_id": {"type": "null"}},
                                      "required": ["name"], "additionalProperties": False}
    else:
        ann_req["sender_id"] = IDENTITY_ID
        out["announcement_request"] = ("POST /apps/:app/announcements body", obj(ann_req, ("recipients", "sender_id", "parts")))
        ann_sender = {"$ref": "#/$defs/basic_identity"}
    ann = {"id": {"type": "string", "pattern": "^layer:///announcements/.+"}, "url": S, "sent_at": ISO,
           "recipients": {"type": "array", "items": USER_ID if v1 else {"anyOf": [IDENTITY_ID, USER_ID]}},
           "sender": ann_sender, "parts": {"type": "array", "items": {"$ref": "#/$defs/part"}},
           "notification": {"type": ["object", "null"]}, "recipient_status": {"type": ["object", "null"]},
           "conversation": {"type": "null"}}
    if not v1:
        ann["updated_at"] = S_OR_NULL
    out["announcement"] = ("Announcement object (202 body)", obj(ann, ("id", "sender", "parts"), extra=not v1))
    out["notification_request"] = ("POST /apps/:app/notifications body",
                                   obj({"recipients": people, "notification": {"$ref": "#/$defs/notification"}},
                                       ("recipients", "notification")))
    out["notification"] = ("notification object", {"$ref": "#/$defs/notification"})

    if v1:
        out["block_request"] = ("POST /apps/:app/users/:owner/blocks body", obj({"user_id": USER_ID}, ("user_id",)))
        out["blocks"] = ("GET /apps/:app/users/:owner/blocks body",
                         {"type": "array", "items": obj({"user_id": USER_ID}, ("user_id",))})
    else:
        out["blocks"] = ("GET /apps/:app/users/:owner/blocks body",
                         {"type": "array", "items": {"$ref": "#/$defs/basic_identity"}})
    out["user_patch"] = ("PATCH /apps/:app/users/:owner Layer-Patch body (blocks, suspended)",
                         patch_body(v, {"blocks": "users"}))

    profile = {"display_name": S, "avatar_url": S_OR_NULL, "first_name": S_OR_NULL, "last_name": S_OR_NULL,
               "phone_number": S_OR_NULL, "email_address": S_OR_NULL, "public_key": S_OR_NULL,
               "metadata": {"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 16,
                                                         "additionalProperties": {"type": "string"}}]}}
    id_req = dict(profile)
    if v == "2.0":
        id_req["type"] = {"enum": ["User", "Bot", "user", "bot"]}
        id_req["identity_type"] = {"enum": ["user", "bot"]}
    elif v == "3.0":
        id_req["identity_type"] = {"enum": ["user", "bot"]}
    out["identity_request"] = ("POST/PUT /apps/:app/users/:uid/identity body", obj(id_req, ("display_name",)))
    ident = dict(profile)
    ident["display_name"] = S_OR_NULL
    if not v1:
        ident.update({"id": IDENTITY_ID, "url": S_OR_NULL, "user_id": S,
                      "identity_type": {"enum": ["user", "bot", None]}, "type": {"enum": ["User", "Bot", None]}})
    out["identity"] = ("Identity object (GET …/identity)", obj(ident, (), extra=not v1))
    out["basic_identity"] = ("BasicIdentity (2.0+)", {"$ref": "#/$defs/basic_identity"})

    wh_version = "1.0" if v1 else v
    v1_events = ["message.sent", "message.delivered", "message.read", "message.deleted", "conversation.created",
                 "conversation.updated.participants", "conversation.updated.metadata", "conversation.deleted"]
    events = {"type": "array", "items": {"enum": v1_events} if v1 else {"type": "string", "pattern": r"^[A-Z][A-Za-z]*\.[a-z]+$"}}
    out["webhook_request"] = ("POST /apps/:app/webhooks body",
                              obj({"version": {"const": wh_version}, "target_url": S, "events": events,
                                   "secret": S, "config": {"type": ["object", "null"]}},
                                  ("version", "target_url", "events")))
    out["webhook"] = ("Webhook object", obj({"id": S, "url": S, "version": {"const": wh_version}, "target_url": S,
                                             "events": events, "status": {"enum": ["unverified", "active", "inactive"]},
                                             "status_reason": S_OR_NULL, "created_at": ISO,
                                             "config": {"type": ["object", "null"]}, "secret": S},
                                            ("id", "version", "target_url", "events", "status"), extra=not v1))
    if v1:
        actor = {"type": "object", "oneOf": [obj({"user_id": S}, ("user_id",)), obj({"name": S}, ("name",))]}
        event = obj({"created_at": ISO, "type": {"enum": v1_events}, "id": S, "actor": actor}, ("created_at", "type", "id"))
        wh_sender = {"type": "object", "oneOf": [obj({"user_id": S}, ("user_id",)), obj({"name": S}, ("name",))]}
        # 1.0 webhook messages carry a single-key sender (§12.3) and no user-perspective fields
        d["webhook_message"] = {**d["message"], "properties": {
            k: (wh_sender if k == "sender" else p) for k, p in d["message"]["properties"].items()
            if k not in ("received_at", "is_unread", "position")}}
        delivery = obj({"event": event, "message": {"$ref": "#/$defs/webhook_message"},
                        "conversation": {"$ref": "#/$defs/conversation"},
                        "config": {"type": ["object", "null"]}}, ("event",))
        delivery["oneOf"] = [{"required": ["message"]}, {"required": ["conversation"]}]
    else:
        event = obj({"created_at": ISO, "type": S, "id": S, "actor": {"$ref": "#/$defs/basic_identity"}},
                    ("type",), extra=True)
        delivery = obj({"event": event, "actor": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/basic_identity"}]},
                        "message": {"$ref": "#/$defs/message"}, "conversation": {"$ref": "#/$defs/conversation"},
                        "config": {"type": ["object", "null"]}}, ("event",), extra=True)
    out["webhook_delivery"] = ("Webhook delivery body", delivery)
    d["conversation"] = out["conversation"][1]
    out["error"] = ("Error object (§1.8)", obj({"id": S, "code": {"type": "integer"}, "message": S, "url": S,
                                              "data": {}}, ("id", "code", "message")))
    out["_defs"] = ("", d)
    return out


def build() -> dict[str, dict[str, Any]]:
    """``{"<version>/<kind>.json": schema}`` for every version and kind."""
    files: dict[str, dict[str, Any]] = {}
    for v in VERSIONS:
        ks = kinds(v)
        d = ks.pop("_defs")[1]
        for kind, (title, body) in ks.items():
            schema = {"$schema": DIALECT, "$id": f"https://layer-migrate.invalid/schemas/{v}/{kind}.json",
                      "title": f"Layer Platform API {v}: {title}", **body, "$defs": d}
            files[f"{v}/{kind}.json"] = schema
    return files


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(root: Path = HERE) -> list[Path]:
    written = []
    for rel, schema in build().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in write():
        print(p)
