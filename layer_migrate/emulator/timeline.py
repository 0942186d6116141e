"""The dated change log as data: which behaviour the emulator shows at ``--as-of YYYY-MM-DD``.

Every dated line of ``platform-api-changelog.txt`` (and the dated OBS notes of the spec that
describe a response shape) is one :class:`Change` here: a key the handlers ask about
(``ctx.since("distinct_200")``), the date it took effect, the versions it applies to, and what the
emulator does before and after. Handlers never compare dates themselves, so this table is the one
place that says what ``--as-of`` changes — ``docs/changelog-conformance.md`` is checked against it.

Versions: the 1.x lines of the log predate 2.0 (first drafted June 2016), so they apply to 1.0/1.1
requests only; 2.0/3.0 always show the latest 1.x-era behaviour. ``as_of=None`` (the default) is
the latest behaviour of every version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

V1 = ("1.0", "1.1")
ALL = ("1.0", "1.1", "2.0", "3.0")

#: The Platform API launched on 2015-06-04: an ``as_of`` before it has nothing to emulate.
LAUNCH = date(2015, 6, 4)


@dataclass(frozen=True)
class Change:
    """One dated behaviour change. ``key`` is what handlers ask :meth:`Timeline.since` about."""

    date: date
    key: str
    item: str
    before: str
    after: str
    versions: tuple[str, ...] = V1


def _d(text: str) -> date:
    return date.fromisoformat(text)


#: Endpoints (routes.py names) that a dated "Add support for …" line introduced.
ENDPOINTS_SINCE: dict[str, tuple[str, str]] = {
    "conversations.delete": ("2015-09-23", "endpoint_delete_conversation"),
    "user.conversations.list": ("2015-12-23", "endpoint_user_conversations"),
    "user.conversations.get": ("2015-12-23", "endpoint_user_conversations"),
    "messages.list": ("2016-01-11", "endpoint_message_reads"),
    "messages.get": ("2016-01-11", "endpoint_message_reads"),
    "user.messages.list": ("2016-01-11", "endpoint_message_reads"),
    "user.messages.get": ("2016-01-11", "endpoint_message_reads"),
    "content.create": ("2016-02-24", "rich_content"),
    "content.get": ("2016-02-24", "rich_content"),
    "messages.delete": ("2016-03-01", "endpoint_delete_message"),
    "app.patch": ("2016-05-05", "endpoint_sessions"),
    "sessions.delete": ("2016-05-05", "endpoint_sessions"),
}

CHANGES: tuple[Change, ...] = (
    Change(_d("2015-06-05"), "patch_participants", "Add support for patching conversation participants.",
           "a participants Layer-Patch → 422 invalid_property", "participants can be patched"),
    Change(_d("2015-06-17"), "distinct_metadata", "Add support for creating distinct conversations with metadata.",
           "a distinct create with metadata → 422 invalid_property metadata", "distinct + metadata accepted"),
    Change(_d("2015-06-17"), "everyone_explicit",
           "When sending an announcement, \"everyone\" must now be explicit (formerly implied).",
           "omitted recipients = every known user", "omitted recipients → 422 missing_property recipients"),
    Change(_d("2015-06-23"), "patch_metadata", "Add support for patching conversation metadata.",
           "a metadata Layer-Patch → 422 invalid_property", "metadata can be patched"),
    Change(_d("2015-07-09"), "method_not_allowed", "405 Method Not Allowed with an Allow header.",
           "a wrong method on a known path → 404 invalid_endpoint", "405 method_not_allowed + Allow"),
    Change(_d("2015-07-10"), "sender_both_error", "Simultaneous use of sender.name and sender.user_id is an error.",
           "both given: sender.user_id wins, name ignored", "both given → 422 invalid_property sender"),
    Change(_d("2015-08-02"), "error_url", "Set url in all error responses.",
           "error objects carry no url", "every error object has url"),
    Change(_d("2015-08-02"), "base64_graceful", "Graceful handling of invalid base64 encoded message part bodies.",
           "invalid base64 → internal error", "invalid base64 → 422 invalid_property"),
    Change(_d("2015-08-02"), "metadata_no_participants",
           "Fix conversation creation with metadata and no participants.",
           "metadata without participants → internal error", "→ 422 missing_property participants"),
    Change(_d("2015-08-21"), "internal_500", "Respond with 500 status code (formerly 503) for internal server errors.",
           "internal errors → 503", "internal errors → 500 internal_server_error"),
    Change(_d("2015-08-21"), "inline_limit", "Serve an appropriate error when an inline message part body is >2kb.",
           "inline bodies over 2 KB accepted", "→ 422 invalid_property parts[i].body"),
    Change(_d("2015-08-21"), "announcement_503", "Return 503 if an announcement cannot be enqueued.",
           "enqueue failure → internal error", "enqueue failure → 503 service_unavailable"),
    Change(_d("2015-09-03"), "version_1_1", "Add support for version 1.1 with new interactive push notification format.",
           "Accept version=1.1 → 406 invalid_header", "version 1.1 offered"),
    Change(_d("2015-09-03"), "accept_required", "Content negotiation is now required.",
           "no Accept header = version 1.0", "no Accept header → 406 invalid_header"),
    Change(_d("2015-09-16"), "bulk_blocks", "Add support for bulk block list manipulation.",
           "blocks in a user Layer-Patch → 422 invalid_property", "blocks can be patched"),
    Change(_d("2015-09-16"), "method_override", "Add support for the X-HTTP-Method-Override header.",
           "the header is ignored (the request keeps its method)", "POST + override PATCH = PATCH"),
    Change(_d("2015-09-16"), "distinct_200", "Change 303 to 200 response status when a distinct conversation exists.",
           "existing distinct conversation → 303 See Other + Location", "→ 200"),
    Change(_d("2015-09-23"), "endpoint_delete_conversation", "Add support for deleting conversations.",
           "DELETE conversation → 405", "DELETE conversation → 204"),
    Change(_d("2015-09-24"), "base64_binary", "Fixed an issue with base64 encoded non-UTF-8 binary data in message parts.",
           "base64 of non-UTF-8 bytes → internal error", "accepted"),
    Change(_d("2015-09-30"), "delete_deleted_ok", "Deleting an already-deleted conversation is treated as a success.",
           "→ 410 object_deleted", "→ 204"),
    Change(_d("2015-10-09"), "messages_url", "The conversation object now has a messages_url attribute.",
           "no messages_url", "messages_url present"),
    Change(_d("2015-11-18"), "sender_read", "Recipient status for the sender of a message is now read instead of sent.",
           "sender's own status sent", "sender's own status read"),
    Change(_d("2015-11-30"), "everyone_refused", "Discontinued support for \"recipients\": \"everyone\".",
           "\"everyone\" = every known user", "\"everyone\" → 422 invalid_property recipients"),
    Change(_d("2015-12-23"), "endpoint_user_conversations", "Add new user-specific conversation data access APIs.",
           "GET /users/:id/conversations[/:cid] → 404 invalid_endpoint", "available"),
    Change(_d("2015-12-29"), "atomic_metadata_create", "Conversation creation with metadata is now atomic.",
           "conversation.created without metadata + conversation.updated.metadata webhooks",
           "one conversation.created with metadata"),
    Change(_d("2016-01-11"), "endpoint_message_reads", "Add new message data access APIs.",
           "message list/get (system and user) → 404 invalid_endpoint", "available"),
    Change(_d("2016-02-24"), "rich_content", "Add support for rich content.",
           "content endpoints → 404; content parts → 422 invalid_property", "available"),
    Change(_d("2016-03-01"), "endpoint_delete_message", "Add support for deleting messages.",
           "DELETE message → 405", "DELETE message → 204"),
    Change(_d("2016-05-05"), "endpoint_sessions", "Add support for configuring default session TTL and deleting sessions.",
           "PATCH app / DELETE sessions → 404 / 405", "available"),
    Change(_d("2016-06-09"), "delayed_messages", "Add support for sending delayed messages with typing indicators.",
           "schedule → 422 invalid_property", "schedule accepted"),
    Change(_d("2016-06-21"), "explicit_nulls", "Response objects have explicit null where attributes were absent.",
           "null keys omitted (OBS sender {\"name\": …}; base64 parts echoed decoded, OBS Feb 2016)",
           "explicit null; base64 echoed encoded"),
    Change(_d("2016-06-21"), "user_404", "Requests on behalf of an unknown user → 404 (formerly created on the fly).",
           "/users/:id/... creates the user", "→ 404 not_found"),
    Change(_d("2016-08-30"), "rejoin_full_list", "Users who left and were re-added see the full participants list.",
           "re-added user sees an empty participants list", "full list"),
    Change(_d("2016-10-14"), "participants_unordered", "Conversation participants order may vary.",
           "request order kept", "a set; order not guaranteed (the emulator keeps request order)"),
    Change(_d("2017-09-28"), "message_updating_2_0", "Support for message updating added to version 2.0.",
           "2.0 has no part endpoints and no updated_at", "2.0 part endpoints, updated_at, Message.updated",
           versions=("2.0",)),
)

BY_KEY: dict[str, Change] = {c.key: c for c in CHANGES}


class Timeline:
    """Answers "is change ``key`` in effect for ``version``?" for one emulated date."""

    def __init__(self, as_of: date | None = None) -> None:
        if as_of is not None and as_of < LAUNCH:
            raise ValueError(f"--as-of {as_of.isoformat()} is before the Platform API launched ({LAUNCH.isoformat()})")
        self.as_of = as_of

    def since(self, key: str, version: str) -> bool:
        change = BY_KEY[key]
        if self.as_of is None or version not in change.versions:
            return True
        return self.as_of >= change.date

    def endpoint_available(self, endpoint: str, version: str) -> bool:
        entry = ENDPOINTS_SINCE.get(endpoint)
        if entry is None:
            if endpoint.startswith("parts.") and version == "2.0":
                return self.since("message_updating_2_0", version)
            return True
        return self.since(entry[1], version)

    def offers(self, version: str) -> bool:
        return version != "1.1" or self.since("version_1_1", version)


def parse_as_of(text: str) -> date:
    """``YYYY-MM-DD`` → date; ValueError with a one-line reason otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of {text!r} is not a date of the form YYYY-MM-DD") from None


def markdown_table() -> str:
    """The date → behaviour table of ``docs/emulator.md`` (a test keeps the two equal)."""
    rows = ["| Date | Key | Versions | Before | From that date |", "|---|---|---|---|---|"]
    for c in CHANGES:
        rows.append(f"| {c.date.isoformat()} | `{c.key}` | {', '.join(c.versions)} | {c.before} | {c.after} |")
    return "\n".join(rows) + "\n"
