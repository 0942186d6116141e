"""PyPI ``LayerClient==0.1.10`` (the Python v1 SDK), unmodified, against our servers.

Every ``PlatformClient`` method that talks to the server, in every configuration (see
``harness.CONFIGURATIONS`` and ``INPROCESS``), with assertions on what the method returns to its
caller (per its docstring) and, through a backdoor straight to the emulator, on what it changed.
The SDK is installed by the ``test`` extra (pyproject.toml); it speaks 1.0 to a hard-coded
``https://api.layer.com``, which the harness redirects (``harness.routed_to``).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
import requests

from .conftest import Backdoor, configs
from .harness import AUTOCREATE, CONFIGURATIONS, Target, layerclient_source, load_sdk_copy

try:
    import LayerClient.LayerClient as L
except ImportError:  # a missing SDK is a broken test setup, never a skip
    pytest.fail("LayerClient==0.1.10 is not installed; it comes with the test extra: "
                "pip install -e '.[test]'", pytrace=False)

# Exact causes of today's failures (strict xfails: each flips to a failure once fixed). The
# emulator's and the proxy flow's fixes (R21, null sound, user_id in identity bodies, rich-content
# download_url, R10 autocreate) have landed; what remains is the SDK's own defect.
GET_IDENTITY_SDK = ("SDK defect: get_identity() builds a Sender from the 1.x identity body, which "
                    "(spec §3.4, DOC) has neither user_id nor name, and Sender() raises ValueError "
                    "when both are missing — no 1.x answer the spec allows can satisfy it")


def every(reason: str) -> dict[str, str]:
    return dict.fromkeys(CONFIGURATIONS, reason)



@contextmanager
def platform_client(target: Target) -> Iterator[object]:
    """A PlatformClient of the configuration's SDK module (the published one unless the
    configuration brings a rewritten copy, ``Target.sdk_module``), routed to the configuration."""
    module = target.sdk_module or L
    with target.routing():
        yield module.PlatformClient(target.app_id, target.token)


@pytest.fixture
def client(target: Target) -> Iterator[object]:
    with platform_client(target) as c:
        yield c


@pytest.fixture
def sdk(client: object) -> ModuleType:
    """The module the client comes from: tests build Sender/MessagePart/... from it."""
    return sys.modules[type(client).__module__]


def text(body: str) -> list[object]:
    return [L.MessagePart(body)]  # MessagePart.as_dict() is all the SDK reads: any copy's works


def new_conversation(client: object, *users: str) -> object:
    return client.create_conversation(list(users), distinct=False)


# --- conversations --------------------------------------------------------------------------------

@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_create_conversation(client: object, sdk: ModuleType) -> None:
    conv = client.create_conversation(["alice", "bob"], distinct=False, metadata={"topic": "launch"})
    assert isinstance(conv, sdk.Conversation)
    assert conv.uuid() is not None and conv.id == f"layer:///conversations/{conv.uuid()}"
    assert conv.url.endswith(f"/conversations/{conv.uuid()}")
    assert conv.messages_url.endswith(f"/conversations/{conv.uuid()}/messages")
    assert sorted(conv.participants) == ["alice", "bob"]
    assert conv.distinct is False
    assert conv.metadata == {"topic": "launch"}
    assert isinstance(conv.created_at, dt.datetime)


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_create_conversation_defaults_distinct(client: object, sdk: ModuleType) -> None:
    """The defaults (``distinct=True``, ``metadata=None`` sent as ``null``) reuse the one
    conversation of a participant set."""
    first = client.create_conversation(["carol", "dan"])
    again = client.create_conversation(["dan", "carol"])
    assert first.distinct is True and again.distinct is True
    assert again.uuid() == first.uuid()
    assert sorted(again.participants) == ["carol", "dan"]


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_get_conversation(client: object, sdk: ModuleType) -> None:
    made = client.create_conversation(["alice", "erin"], distinct=False, metadata={"a": "1"})
    got = client.get_conversation(made.uuid())
    assert isinstance(got, sdk.Conversation)
    assert (got.id, got.url, got.messages_url) == (made.id, made.url, made.messages_url)
    assert sorted(got.participants) == ["alice", "erin"]
    assert got.metadata == {"a": "1"} and got.created_at == made.created_at


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_get_conversations(client: object, sdk: ModuleType) -> None:
    older = new_conversation(client, "gina", "hal")
    newer = new_conversation(client, "gina", "ivan")
    new_conversation(client, "hal", "ivan")  # not gina's
    listed = client.get_conversations("gina", page_size=10, sort_by="created_at")
    assert all(isinstance(c, sdk.Conversation) for c in listed)
    assert [c.uuid() for c in listed] == [newer.uuid(), older.uuid()]  # newest first
    assert [c.uuid() for c in client.get_conversations("gina", page_size=1)] == [newer.uuid()]
    assert [c.uuid() for c in client.get_conversations("gina", from_id=newer.id)] == [older.uuid()]
    client.send_message(older, sdk.Sender(name="Support"), text("bump"))
    by_activity = client.get_conversations("gina", sort_by="last_message")
    assert [c.uuid() for c in by_activity] == [older.uuid(), newer.uuid()]


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_update_conversation(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    result = client.update_conversation(conv, metadata={"topic": "moved"}, custom_operations=[
        {"operation": "add", "property": "participants", "value": "dave"}])
    assert isinstance(result, requests.Response) and result.status_code == 204  # no JSON body
    # (update_conversation also takes the Conversation object, as its docstring says)
    got = client.get_conversation(conv.uuid())
    assert got.metadata == {"topic": "moved"}
    assert sorted(got.participants) == ["alice", "bob", "dave"]


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_delete_conversation(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    assert client.delete_conversation(conv.uuid()) is None
    with pytest.raises(sdk.LayerPlatformException) as err:
        client.get_conversation(conv.uuid())
    assert (err.value.http_code, err.value.error_id, err.value.code) == (410, "object_deleted", 103)


# --- messages -------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_message_as_participant(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    msg = client.send_message(conv, sdk.Sender(id="alice"), text("hello bob"))
    assert isinstance(msg, sdk.Message) and msg.uuid() is not None
    assert msg.sender.id == "alice" and msg.sender.name is None
    assert [(p.body, p.mime_type) for p in msg.parts] == [("hello bob", "text/plain")]
    assert msg.conversation.uuid() == conv.uuid()
    assert set(msg.recipient_status) == {"alice", "bob"} and msg.recipient_status["bob"] == "sent"
    assert isinstance(msg.sent_at, dt.datetime)


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_message_with_a_profile_carrying_sender(client: object, sdk: ModuleType) -> None:
    """``Sender(id=..., display_name=..., avatar_url=...)``: the SDK sends the profile keys inside
    the v1 ``sender`` (``Sender.as_dict``) — evidence the service took them. Newer versions have
    no ``sender`` at all (R21/R22), so nothing of it may reach a 2.0/3.0 upstream."""
    conv = new_conversation(client, "alice", "bob")
    who = sdk.Sender(id="alice", display_name="Alice A.", avatar_url="https://example.com/a.png")
    msg = client.send_message(conv, who, text("with a profile"))
    assert isinstance(msg, sdk.Message) and msg.sender.id == "alice" and msg.sender.name is None
    bot = sdk.Sender(name="Support", display_name="Support team")
    msg = client.send_message(conv, bot, text("bot with a profile"))
    assert msg.sender.name == "Support" and msg.sender.id is None


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_message_as_name(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    msg = client.send_message(conv, sdk.Sender(name="Support"), text("we are here"))
    assert msg.sender.name == "Support" and msg.sender.id is None
    assert [p.body for p in msg.parts] == ["we are here"]
    assert msg.recipient_status == {"alice": "sent", "bob": "sent"}


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_message_with_notification(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    note = sdk.PushNotification("New message", sound="chime.aiff",
                              recipients={"bob": sdk.PushNotification("Bob, look", sound="bell.aiff")})
    msg = client.send_message(conv, sdk.Sender(name="Support"), text("with a push"), note)
    assert msg.sender.name == "Support" and [p.body for p in msg.parts] == ["with a push"]


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_message_with_soundless_override(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    note = sdk.PushNotification("New message", recipients={"bob": sdk.PushNotification("Bob, look")})
    msg = client.send_message(conv, sdk.Sender(name="Support"), text("quiet push"), note)
    assert [p.body for p in msg.parts] == ["quiet push"]


def test_send_message_refuses_nothing_to_send() -> None:
    """Documented: ``None`` back, no request, for missing arguments (no server involved)."""
    client = L.PlatformClient("00000000-0000-4000-8000-000000000000", "t")
    assert client.send_message(None, L.Sender(name="x"), text("x")) is None
    assert client.send_message(object(), L.Sender(name="x"), []) is None


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_get_messages(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    first = client.send_message(conv, sdk.Sender(name="Support"), text("one"))
    second = client.send_message(conv, sdk.Sender(name="Support"), text("two"))
    listed = client.get_messages(conv.uuid())
    assert all(isinstance(m, sdk.Message) for m in listed)
    assert [(m.uuid(), m.parts[0].body) for m in listed] == [(second.uuid(), "two"), (first.uuid(), "one")]
    assert all(m.sender.name == "Support" and m.conversation.uuid() == conv.uuid() for m in listed)
    assert [m.uuid() for m in client.get_messages(conv.uuid(), page_size=1)] == [second.uuid()]
    assert [m.uuid() for m in client.get_messages(conv.uuid(), from_id=second.id)] == [first.uuid()]


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_message_receipt(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    msg = client.send_message(conv, sdk.Sender(name="Support"), text("read me"))
    result = client.send_message_receipt("bob", msg.uuid(), sdk.LayerMessageReceipt.READ)
    assert isinstance(result, requests.Response) and result.status_code == 204
    [after] = client.get_messages(conv.uuid())
    assert after.recipient_status == {"alice": "sent", "bob": "read"}


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_delete_message(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    keep = client.send_message(conv, sdk.Sender(name="Support"), text("keep"))
    drop = client.send_message(conv, sdk.Sender(name="Support"), text("drop"))
    assert client.delete_message(conv.uuid(), drop.uuid()) is None
    assert [m.uuid() for m in client.get_messages(conv.uuid())] == [keep.uuid()]


# --- announcements --------------------------------------------------------------------------------

@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_announcement(client: object, sdk: ModuleType) -> None:
    note = sdk.PushNotification("Heads up", recipients={"alice": sdk.PushNotification("Alice!", sound="a.aiff")})
    ann = client.send_announcement(sdk.Sender(name="The System"), ["alice", "bob"], text("maintenance"), note)
    assert isinstance(ann, sdk.Announcement) and ann.uuid() is not None
    assert ann.id == f"layer:///announcements/{ann.uuid()}"
    assert sorted(ann.recipients) == ["alice", "bob"]
    assert ann.sender.name == "The System" and ann.sender.id is None
    assert [p.body for p in ann.parts] == ["maintenance"]
    assert isinstance(ann.sent_at, dt.datetime)


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_send_announcement_with_soundless_override(client: object, sdk: ModuleType) -> None:
    note = sdk.PushNotification("Heads up", recipients={"alice": sdk.PushNotification("Alice!")})
    ann = client.send_announcement(sdk.Sender(name="The System"), ["alice"], text("quiet"), note)
    assert ann.recipients == ["alice"]


# --- identities and users -------------------------------------------------------------------------

@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_replace_identity(client: object, sdk: ModuleType, backdoor: Backdoor) -> None:
    backdoor.identity("erin", display_name="Old Erin", last_name="Old")
    result = client.replace_identity(sdk.Sender(id="erin", display_name="Erin E", first_name="Erin",
                                              metadata={"team": "blue"}))
    assert isinstance(result, requests.Response) and result.status_code == 204
    stored = backdoor.get("/users/erin/identity", "1.0")
    assert (stored["display_name"], stored["first_name"], stored["metadata"]) == ("Erin E", "Erin", {"team": "blue"})
    assert stored.get("last_name") is None  # replaced, not merged


@pytest.mark.parametrize("target", configs(every(GET_IDENTITY_SDK), inprocess=True, raises=ValueError),
                         indirect=True)
def test_get_identity(client: object, sdk: ModuleType, backdoor: Backdoor) -> None:
    backdoor.identity("frank", display_name="Frank F", first_name="Frank", metadata={"level": "3"})
    who = client.get_identity("frank")
    assert isinstance(who, sdk.Sender)
    assert (who.display_name, who.first_name, who.metadata) == ("Frank F", "Frank", {"level": "3"})


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_update_user_external_badge_count(client: object, sdk: ModuleType, backdoor: Backdoor) -> None:
    new_conversation(client, "hank", "bob")
    result = client.update_user_external_badge_count("hank", 7)
    assert isinstance(result, requests.Response) and result.status_code == 204
    assert backdoor.get("/users/hank/badge")["external_unread_count"] == 7


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_unknown_user_is_404_by_default(client: object, sdk: ModuleType) -> None:
    """Since 2016-06-21 (the default, latest behaviour) an unknown user is 404 (R10)."""
    with pytest.raises(sdk.LayerPlatformException) as err:
        client.update_user_external_badge_count("nobody-badge", 2)
    assert (err.value.http_code, err.value.error_id) == (404, "not_found")


@pytest.mark.parametrize("target", [AUTOCREATE], indirect=True)
def test_update_user_external_badge_count_autocreates_unknown_users(client: object, sdk: ModuleType, backdoor: Backdoor) -> None:
    """With ``autocreate_users`` (the pre-2016-06-21 service) users nobody created work."""
    result = client.update_user_external_badge_count("nobody-badge", 2)
    assert isinstance(result, requests.Response) and result.status_code == 204
    assert client.get_conversations("nobody-list") == []
    assert backdoor.get("/users/nobody-badge/badge")["external_unread_count"] == 2
    assert backdoor.get("/users/nobody-list/identity")["display_name"] == "nobody-list"


# --- rich content ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_prepare_rich_content(client: object, sdk: ModuleType) -> None:
    conv = new_conversation(client, "alice", "bob")
    # The SDK puts content_size into a header as given; requests wants header values as str.
    rich = client.prepare_rich_content(conv, "image/png", "2048")
    assert isinstance(rich, sdk.RichContent)
    assert rich.id.startswith("layer:///content/") and rich.size == 2048
    assert rich.upload_url.startswith("http")


@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_rich_content_round_trip(client: object, sdk: ModuleType) -> None:
    """The flow prepare_rich_content() documents: prepare, upload to upload_url, send a part that
    references the content; the received part can be downloaded."""
    conv = new_conversation(client, "alice", "bob")
    payload = b"\x89PNG\r\n\x1a\n-tiny-"
    rich = client.prepare_rich_content(conv, "image/png", str(len(payload)))
    upload = requests.put(rich.upload_url, data=payload, headers={"Content-Type": "image/png"}, timeout=10)
    assert upload.status_code in (200, 201), upload.text
    part = sdk.MessagePart(None, mime="image/png", content={"id": rich.id, "size": len(payload)})
    sent = client.send_message(conv, sdk.Sender(name="Photos"), [part])
    assert [(p.mime_type, p.content["id"]) for p in sent.parts] == [("image/png", rich.id)]
    [got] = client.get_messages(conv.uuid())
    content = got.parts[0].content
    assert content["id"] == rich.id and content["size"] == len(payload)
    assert content["download_url"], f"received part has no download_url: {content}"
    assert requests.get(content["download_url"], timeout=10).content == payload


# --- errors and coverage ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", configs(inprocess=True), indirect=True)
def test_errors_reach_the_caller_as_layer_platform_exception(client: object, sdk: ModuleType) -> None:
    with pytest.raises(sdk.LayerPlatformException) as err:
        client.get_conversation("24f43c32-4d95-11e4-b3a2-0fd00000020d")
    assert (err.value.http_code, err.value.code, err.value.error_id) == (404, 102, "not_found")
    assert str(err.value)  # the server's message


#: PlatformClient methods that make no request of their own.
NOT_SERVER_CALLS = {"_get_layer_headers", "_get_layer_uri", "_raw_request"}


def test_every_server_method_is_covered() -> None:
    """A PlatformClient method without a test here (say, in another SDK release) fails loudly."""
    methods = {name for name in vars(L.PlatformClient) if callable(getattr(L.PlatformClient, name))
               and not name.startswith("__")} - NOT_SERVER_CALLS
    tests = [name for name in globals() if name.startswith("test_")]
    untested = {m for m in methods if not any(t == f"test_{m}" or t.startswith(f"test_{m}_") for t in tests)}
    assert len(methods) == 14
    assert untested == set()


@pytest.mark.parametrize("target", configs(), indirect=True)
def test_a_copy_of_the_sdk_is_driven_through_sdk_module(target: Target, tmp_path: object) -> None:
    """The codemod's place (issue 15) works: a copy of LayerClient.py given as ``sdk_module`` is
    what the ``client``/``sdk`` fixtures drive."""
    import dataclasses
    import shutil
    from pathlib import Path

    copy = Path(str(tmp_path)) / "layerclient_copy.py"
    shutil.copy(layerclient_source(), copy)
    module = load_sdk_copy(copy, f"layerclient_copy_{target.name.replace('-', '_').replace('.', '_')}")
    assert module is not L and module.PlatformClient is not L.PlatformClient
    with_copy = dataclasses.replace(target, sdk_module=module)
    with platform_client(with_copy) as driven:
        assert type(driven) is module.PlatformClient
        conv = driven.create_conversation(["alice", "bob"], distinct=False)
        msg = driven.send_message(conv, module.Sender(name="Copy"), [module.MessagePart("from the copy")])
        assert isinstance(msg, module.Message) and msg.sender.name == "Copy"
