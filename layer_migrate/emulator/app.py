"""The emulator's ASGI application: transport rules of spec §1, then dispatch to handlers.

Order of checks for every request (each failure is a Layer error object):

1. ``Authorization: Bearer <token>`` (constant-time compare) → else ``401
   authentication_required`` (§1.1).
2. ``X-HTTP-Method-Override: PATCH`` on a POST turns it into a PATCH (§1.4, from 2015-09-16);
   any other override → ``400 invalid_request``.
3. ``Accept`` names a version of the right media type (``application/vnd.layer+json``, or
   ``application/vnd.layer.webhooks+json`` under ``/apps/:app/webhooks``) → else ``406
   invalid_header`` with the §1.2 body (§1.2; extra parameters such as ``charset`` tolerated).
   ``--lenient`` also takes the undocumented webhooks ``version=1.1`` (snap-swap, OBS) as 1.0.
4. Route (routes.py): unknown path → ``404 invalid_endpoint``; known path, wrong method → ``405``
   + ``Allow`` (§1.5); an endpoint the version does not have → ``405`` when other methods remain on
   that path (blocks POST at 2.0+ → ``Allow: GET``), ``405`` with an empty ``Allow`` for
   ``DELETE …/blocks/:user_id`` at 2.0+, else ``404 invalid_endpoint``.
5. Path app id ≠ the emulator's → ``403 invalid_app_id``.
6. ``If-None-Match: <uuid>`` on creates (conversations, messages, announcements) replays the
   first answer (§1.6); a non-UUID value → ``400 invalid_request_id``.
7. The handler runs inside one store transaction; webhook deliveries it causes are recorded in
   that transaction and sent after the commit.

Bodies over ``max_body`` bytes → ``413`` (``invalid_request``). Unexpected exceptions are logged
and answered ``500 internal_server_error`` without a trace (``503 service_unavailable`` when
emulating a date before 2015-08-21). Every dated behaviour comes from ``timeline.py`` through
``Settings.timeline``; handlers get a :class:`~.settings.Settings`, never this app (no cycle).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson

from .. import routes
from ..errors import LayerError, invalid_header, invalid_request, method_not_allowed
from ..versions import (
    PLATFORM_MEDIA_TYPE,
    VERSIONS,
    WEBHOOK_VERSIONS,
    WEBHOOKS_MEDIA_TYPE,
    version_of,
)
from . import conversations, messages, misc, users, webhooks
from .http import Ctx, Reply, error_reply, parse_query
from .ids import is_uuid
from .render import Renderer
from .settings import EmulatedFailure, Settings, check_faults
from .store import Store
from .timeline import Timeline

log = logging.getLogger("layer_migrate.emulator")


def drop_nulls(value: Any) -> Any:
    """``value`` with every ``null`` object member removed, recursively (pre-2016-06-21 shapes)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value

Handler = Callable[[Ctx], Reply]

HANDLERS: dict[str, Handler] = {
    "conversations.create": conversations.create,
    "conversations.get": conversations.get,
    "conversations.patch": conversations.patch,
    "conversations.delete": conversations.delete,
    "user.conversations.list": conversations.user_list_conversations,
    "user.conversations.get": conversations.user_get_conversation,
    "user.conversations.leave": conversations.user_leave,
    "messages.send": messages.send,
    "messages.list": messages.list_,
    "messages.get": messages.get,
    "messages.delete": messages.delete,
    "user.messages.list": messages.user_list,
    "user.messages.get": messages.user_get,
    "user.receipts.create": messages.receipt,
    "user.conversations.mark_all_read": messages.mark_all_read,
    "parts.list": messages.parts_list,
    "parts.get": messages.parts_get,
    "parts.create": messages.parts_create,
    "parts.update": messages.parts_update,
    "parts.replace_all": messages.parts_replace_all,
    "parts.delete": messages.parts_delete,
    "content.create": misc.content_create,
    "content.get": misc.content_get,
    "announcements.send": misc.announcement,
    "notifications.send": misc.notify,
    "app.patch": misc.app_patch,
    "exports.create": misc.export_create,
    "exports.list": misc.export_list,
    "exports.status": misc.export_status,
    "exports.delete": misc.export_delete,
    "export_security.put": misc.export_security_put,
    "export_security.get": misc.export_security_get,
    "export_schedule.put": misc.export_schedule_put,
    "export_schedule.get": misc.export_schedule_get,
    "identity.create": users.identity_create,
    "identity.replace": users.identity_replace,
    "identity.patch": users.identity_patch,
    "identity.get": users.identity_get,
    "identity.delete": users.identity_delete,
    "users.get": users.user_get,
    "users.patch": users.user_patch,
    "blocks.list": users.blocks_list,
    "blocks.create": users.blocks_create,
    "blocks.delete": users.blocks_delete,
    "badge.put": users.badge_put,
    "badge.get": users.badge_get,
    "sessions.delete": users.sessions_delete,
    "following.list": users.following_list,
    "following.batch": users.following_batch,
    "following.get": users.following_get,
    "following.put": users.following_put,
    "following.delete": users.following_delete,
    "following.identities": users.following_identities,
    "webhooks.create": webhooks.create,
    "webhooks.list": webhooks.list_,
    "webhooks.get": webhooks.get,
    "webhooks.delete": webhooks.delete,
    "webhooks.activate": webhooks.activate,
    "webhooks.deactivate": webhooks.deactivate,
}

LEAVE = "user.conversations.leave"
#: Creates that honour If-None-Match de-duplication (§1.6).
DEDUPE = {"conversations.create", "messages.send", "announcements.send", "notifications.send"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JSON_CT = (b"content-type", b"application/json; charset=UTF-8")


class EmulatorApp:
    """ASGI callable. Configuration lives here; state lives in :attr:`store`."""

    def __init__(self, store: Store, *, app_id: str, token: str, lenient: bool = False,
                 base_url: str = "https://api.layer.com", max_body: int = 1024 * 1024,
                 distinct_default: bool = True, max_participants: int = 25,
                 retry_base: float = 1.0, retry_cap: float = 300.0, max_attempts: int = 12,
                 webhook_timeout: float = 5.0, enforce_blocks: bool = True,
                 distinct_location: bool = False, system_unread_fields: str = "null",
                 as_of: date | None = None, faults: set[str] | frozenset[str] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.app_id = app_id
        self.token = token
        self._token_bytes = token.encode("utf-8")
        self.max_body = max_body
        self.settings = Settings(
            store=store, renderer=Renderer(base_url, app_id, system_unread_fields=system_unread_fields),
            timeline=Timeline(as_of), lenient=lenient, distinct_default=distinct_default,
            max_participants=max_participants, enforce_blocks=enforce_blocks,
            distinct_location=distinct_location, faults=check_faults(faults or ()),
            clock=clock or time.time)
        self.dispatcher = webhooks.Dispatcher(self.settings, retry_base=retry_base, retry_cap=retry_cap,
                                              max_attempts=max_attempts, timeout=webhook_timeout)
        self.settings.verify_webhook = self.dispatcher.verify_later
        self.settings.renderer.clock = self.settings.clock
        waiting = store.get_kv(messages.SCHEDULED) or []  # a --db restart resumes delayed messages
        self.settings.next_due = min((e["due"] for e in waiting), default=None)
        self.tick_interval = 0.2
        self._ticker: asyncio.Future[None] | None = None

    # Read-through views of the settings (tests and server.py read them off the app).
    @property
    def store(self) -> Store:
        return self.settings.store

    @property
    def renderer(self) -> Renderer:
        return self.settings.renderer

    @property
    def timeline(self) -> Timeline:
        return self.settings.timeline

    @property
    def lenient(self) -> bool:
        return self.settings.lenient

    @property
    def faults(self) -> set[str]:
        return self.settings.faults

    @property
    def local_url(self) -> str:
        return self.settings.local_url

    @local_url.setter
    def local_url(self, value: str) -> None:
        self.settings.local_url = value
        self.settings.renderer.local_url = value

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        chunks: list[bytes] = []
        size, too_big = 0, False
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                too_big = True
            elif chunk:
                chunks.append(chunk)
            more = msg.get("more_body", False)
        if too_big:
            reply = error_reply(LayerError("invalid_request", f"Request body exceeds {self.max_body} bytes.",
                                           status=413, data={"max_body": self.max_body}))
        else:
            # raw_path keeps %2F inside user ids (R13); routes.match percent-decodes parameters.
            raw_path = scope.get("raw_path")
            path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else scope["path"]
            reply = self.handle(scope["method"], path, scope.get("query_string", b""), headers, b"".join(chunks))
        await self._send(send, reply)
        self.dispatcher.flush()

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                self.dispatcher.resume()
                self._ticker = asyncio.ensure_future(self._tick())
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if self._ticker is not None:
                    self._ticker.cancel()
                await self.dispatcher.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _tick(self) -> None:
        """Release delayed messages on time even when no request arrives (§5.5)."""
        while True:
            await asyncio.sleep(self.tick_interval)
            try:
                self.release_due()
            except Exception:  # noqa: BLE001 - the ticker must survive a bad entry
                log.exception("emulator: releasing delayed messages failed")

    def release_due(self) -> None:
        """Send every delayed message whose time has come (also run before each request)."""
        ctx = Ctx(self.settings, "TICK", "", {}, {}, b"", "3.0", "tick", {})
        with self.store.tx():
            messages.release_due(ctx)
            self.dispatcher.record(ctx.events)
        self.dispatcher.flush()

    async def _send(self, send: Any, reply: Reply) -> None:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
        if reply.body is not None:
            payload = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
            if not any(k == b"content-type" for k, _ in raw_headers):
                raw_headers.append(JSON_CT)
        else:
            payload = b""
        raw_headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    # -- the request pipeline -----------------------------------------------------------------

    def handle(self, method: str, path: str, query_string: bytes, headers: dict[str, str], raw: bytes) -> Reply:
        """One request → one reply. Never raises."""
        if path.startswith("/_emulator/"):
            try:
                return self._internal(method, path, parse_query(query_string), headers, raw)
            except LayerError as err:
                return error_reply(err)
        version = self._era_version(headers)
        try:
            reply = self._handle(method, path, query_string, headers, raw)
        except LayerError as err:
            self.dispatcher.discard()
            reply = error_reply(err)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer a Layer error, not a trace
            self.dispatcher.discard()
            if isinstance(exc, EmulatedFailure):
                log.warning("emulator: emulated internal error on %s %s: %s", method, path, exc)
            else:
                log.exception("emulator: unexpected error on %s %s", method, path)
            reply = error_reply(self._internal_error(version))
        return self._dated(reply, version)

    def _era_version(self, headers: dict[str, str]) -> str:
        """The request's version for date-dependent error and null rendering (never raises)."""
        return version_of(headers.get("accept"), PLATFORM_MEDIA_TYPE) or "1.0"

    def _internal_error(self, version: str) -> LayerError:
        if not self.timeline.since("internal_500", version):  # 503 before 2015-08-21
            return LayerError("service_unavailable", "An unexpected error occurred.", status=503)
        return LayerError("internal_server_error", "An unexpected error occurred.")

    def _dated(self, reply: Reply, version: str) -> Reply:
        """Response shapes of early dates: no ``url`` in errors before 2015-08-02, null keys
        omitted before 2016-06-21 (OBS sender ``{"name": "t-bone"}``)."""
        if not isinstance(reply.body, (dict, list)):
            return reply
        if reply.status >= 400:
            if not self.timeline.since("error_url", version) and isinstance(reply.body, dict):
                reply.body = {k: v for k, v in reply.body.items() if k != "url"}
        elif not self.timeline.since("explicit_nulls", version):
            reply.body = drop_nulls(reply.body)
        return reply

    def _handle(self, method: str, path: str, query_string: bytes, headers: dict[str, str], raw: bytes) -> Reply:
        method = method.upper()
        auth = headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.strip().encode("utf-8", "replace"),
                                                                 self._token_bytes):
            raise LayerError("authentication_required", "A valid bearer token is required: "
                             "send 'Authorization: Bearer <token>'.", headers={"www-authenticate": "Bearer"})
        version = self._version(path, headers)
        override = headers.get("x-http-method-override")
        if override and self.timeline.since("method_override", version):
            if method != "POST" or override.strip().upper() != "PATCH":
                raise invalid_request("X-HTTP-Method-Override is only supported as PATCH on a POST request.")
            method = "PATCH"
        match = routes.match(method, path)
        name = match.name if match is not None else ""
        if match is None and method == "DELETE":
            # Leaving a conversation (spec §11, Client API DELETE …?mode=my_devices&leave=true) is
            # not in routes.py (it has no translation rule); the emulator serves it locally.
            found = routes.match("GET", path)
            if found is not None and found.name == "user.conversations.get":
                match, name = found, LEAVE
        if match is None or not self._serves(name, match.endpoint.versions, version):
            raise self._no_route(method, path, version)
        if match.params.get("app") != self.app_id:
            raise LayerError("invalid_app_id", f"No app with id {match.params.get('app')!r} exists here.",
                             data={"app_id": match.params.get("app")})
        if "internal_error" in self.settings.faults:
            raise EmulatedFailure("internal_error fault switch is on")
        ctx = Ctx(self.settings, method, path, parse_query(query_string), headers, raw, version, name,
                  dict(match.params))
        handler = HANDLERS[name]
        dedupe_key = self._dedupe_key(name, headers)
        with self.store.tx():
            messages.release_due(ctx)
            if dedupe_key is not None:
                seen = self.store.dedupe_get(dedupe_key)
                if seen is not None:
                    return Reply(seen["status"], seen["body"], seen["headers"])
            reply = handler(ctx)
            if dedupe_key is not None:
                self.store.dedupe_put(dedupe_key, {"status": reply.status, "body": reply.body,
                                                   "headers": reply.headers})
            self.dispatcher.record(ctx.events)
        return reply

    def _version(self, path: str, headers: dict[str, str]) -> str:
        """The version the Accept header names (§1.2), per the emulated date."""
        segments = path.split("/")
        is_webhooks = len(segments) > 3 and segments[1] == "apps" and segments[3] == "webhooks"
        media, offered = (WEBHOOKS_MEDIA_TYPE, WEBHOOK_VERSIONS) if is_webhooks else (PLATFORM_MEDIA_TYPE, VERSIONS)
        version = version_of(headers.get("accept"), media)
        if version is None and not is_webhooks and not self.timeline.since("accept_required", "1.0"):
            return "1.0"  # before 2015-09-03 content negotiation was optional: no Layer Accept = 1.0
        if is_webhooks and version == "1.1" and self.lenient:
            version = "1.0"  # snap-swap sends webhooks version=1.1 (OBS §1.2), undocumented
        if version is None or version not in offered or (not is_webhooks and not self.timeline.offers(version)):
            if is_webhooks:
                raise invalid_header("Accept", "Invalid Accept header; must be of form "
                                               "application/vnd.layer.webhooks+json; version=x.y")
            raise invalid_header("Accept")
        return version

    def _serves(self, endpoint: str, versions: Any, version: str) -> bool:
        """Whether the endpoint exists in ``version`` at the emulated date (timeline.py); 2.0
        gained the part endpoints with message updating (2017-09-28)."""
        if version not in versions and not (endpoint.startswith("parts.") and version == "2.0"):
            return False
        return self.timeline.endpoint_available(endpoint, version)

    def _dedupe_key(self, endpoint: str, headers: dict[str, str]) -> str | None:
        value = headers.get("if-none-match")
        if endpoint not in DEDUPE or value is None:
            return None
        value = value.strip().strip('"')
        if not is_uuid(value):
            raise LayerError("invalid_request_id", "If-None-Match must be an RFC 4122 UUID.",
                             data={"header": "If-None-Match"})
        return f"{endpoint}:{value.lower()}"

    def _no_route(self, method: str, path: str, version: str) -> LayerError:
        allowed = []
        any_version = False
        for m in METHODS:
            found = routes.match(m, path)
            if found is not None:
                any_version = True
                if self._serves(found.name, found.endpoint.versions, version):
                    allowed.append(m)
        if allowed and not self.timeline.since("method_not_allowed", version):
            return LayerError("invalid_endpoint", f"No such endpoint: {method} {path}", data={"path": path})
        if allowed:
            # The same text in every version: errors pass through the proxy unchanged.
            return method_not_allowed(allowed)
        found = routes.match(method, path)
        if any_version and found is not None and found.name == "blocks.delete":
            return LayerError("method_not_allowed", "Method not allowed; block lists are edited with "
                              "PATCH /apps/:app/users/:user_id", headers={"allow": ""})
        if any_version:
            return LayerError("invalid_endpoint", f"No such endpoint in version {version}: {method} {path}",
                              data={"path": path})
        return LayerError("invalid_endpoint", f"No such endpoint: {method} {path}", data={"path": path})

    # -- emulator-only routes ------------------------------------------------------------------

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode("utf-8", "replace"), self._token_bytes)

    def _internal(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes) -> Reply:
        """``/_emulator/…``: health, content bytes (standing in for signed storage URLs: the
        upload URL carries a per-content ``upload_token``; downloads are open like a signed GET
        URL) and the test-only fault switch ``PUT /_emulator/faults`` (bearer token required)."""
        if path == "/_emulator/health" and method == "GET":
            return Reply(200, {"ok": True, "app_id": self.app_id})
        if path == "/_emulator/faults":
            if not self._authorized(headers):
                raise LayerError("authentication_required", "A valid bearer token is required.",
                                 headers={"www-authenticate": "Bearer"})
            if method == "PUT":
                try:
                    names = orjson.loads(raw)
                    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                        raise ValueError("expected a JSON array of fault names")
                    new = check_faults(names)
                except (orjson.JSONDecodeError, ValueError) as exc:
                    raise invalid_request(f"Faults: {exc}") from None
                self.settings.faults.clear()
                self.settings.faults.update(new)
            elif method != "GET":
                raise LayerError("method_not_allowed", "Use GET or PUT.", headers={"allow": "GET, PUT"})
            return Reply(200, sorted(self.settings.faults))
        if path.startswith("/_emulator/content/"):
            c_uuid = path.rsplit("/", 1)[-1]
            found = self.store.content(c_uuid)
            if found is None:
                raise LayerError("not_found", "No such content.")
            meta, data = found
            if method in ("PUT", "POST"):
                token = query.get("upload_token", "")
                if not (self._authorized(headers) or hmac.compare_digest(
                        token.encode("utf-8", "replace"), str(meta.get("upload_token", "")).encode())):
                    raise LayerError("access_denied", "Uploading needs the upload_url (with its upload_token) "
                                     "or the bearer token.")
                if meta.get("uploaded"):
                    raise LayerError("access_denied", "This content is already uploaded and cannot be overwritten.")
                if len(raw) != meta["size"]:
                    raise LayerError("invalid_request", f"Upload has {len(raw)} bytes; {meta['size']} were announced.")
                with self.store.tx():
                    meta["uploaded"] = True
                    self.store.put_content(meta, raw)
                return Reply(200, {"id": f"layer:///content/{c_uuid}", "size": meta["size"]})
            if method == "GET":
                if data is None:
                    raise LayerError("not_found", "Content not uploaded yet.")
                return Reply(200, data, {"content-type": meta["mime_type"]})
            raise LayerError("method_not_allowed", "Use PUT to upload and GET to download.",
                             headers={"allow": "GET, PUT"})
        raise LayerError("invalid_endpoint", f"No such endpoint: {method} {path}", data={"path": path})
