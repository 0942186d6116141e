import pytest
from legacy_app.desk import SupportDesk
from legacy_app.layer_client import LayerError

from .conftest import conversation_uuid


def test_accept_header_selects_the_api_version(client):
    assert client.session.headers["Accept"] == "application/vnd.layer+json; version=1.1"


def test_create_conversation(client, conversation):
    assert conversation["id"].startswith("layer:///conversations/")
    assert sorted(conversation["participants"]) == ["alice", "bob"]
    assert client.participants_of(conversation_uuid(conversation)) == ["alice", "bob"]


def test_message_body_shape(client):
    assert client.message_body("alice", "hi") == {
        "sender": {"user_id": "alice"},
        "parts": [{"body": "hi", "mime_type": "text/plain"}],
    }


def test_participant_ops(client):
    assert client.participant_ops(add=["carol"], remove=["bob"]) == [
        {"operation": "add", "property": "participants", "value": "carol"},
        {"operation": "remove", "property": "participants", "value": "bob"},
    ]


def test_patch_participants(client, conversation):
    cid = conversation_uuid(conversation)
    client.patch_participants(cid, add=["carol", "partner/dave+ext@example.com"], remove=["bob"])
    assert client.participants_of(cid) == ["alice", "carol", "partner/dave+ext@example.com"]
    assert client.is_participant(cid, "partner/dave+ext@example.com")
    assert not client.is_participant(cid, "bob")


def test_replace_participants(client, conversation):
    cid = conversation_uuid(conversation)
    client.replace_participants(cid, ["alice", "carol"])
    assert client.participants_of(cid) == ["alice", "carol"]


def test_send_message_from_user(client, conversation):
    cid = conversation_uuid(conversation)
    sent = client.send_message(cid, "alice", "Where is my order?", notify={"bob": "Alice needs help"})
    assert sent["sender"]["user_id"] == "alice"
    assert client.status_for(sent, "alice") == "read"
    assert client.status_for(sent, "bob") == "sent"
    messages = client.list_messages(cid)
    assert [m["parts"][0]["body"] for m in messages] == ["Where is my order?"]


def test_send_message_from_bot(client, conversation):
    cid = conversation_uuid(conversation)
    sent = client.send_bot_message(cid, "We are on it!")
    assert sent["parts"][0]["body"] == "We are on it!"
    assert client.status_for(sent, "bob") == "sent"


def test_announcement(client):
    result = client.announce(["alice", "bob"], "Maintenance tonight")
    assert result is None or "id" in result


def test_notification_with_per_user_texts(client):
    client.notify(["alice", "bob"], "Your ticket was updated", per_user={"alice": "Ticket 7 updated"})


def test_block_unblock_and_list(client):
    client.block("alice", "partner/dave+ext@example.com")
    client.block("alice", "carol")
    assert client.blocked_users("alice") == ["carol", "partner/dave+ext@example.com"]
    client.unblock("alice", "partner/dave+ext@example.com")
    assert client.blocked_users("alice") == ["carol"]
    client.unblock("alice", "carol")
    assert client.blocked_users("alice") == []


def test_identity_create_and_get(client):
    client.create_identity("erin", "Erin", first_name="Erin", metadata={"tier": "gold"})
    identity = client.get_identity("erin")
    assert identity["display_name"] == "Erin"
    assert identity["first_name"] == "Erin"
    assert identity["metadata"] == {"tier": "gold"}


def test_errors_are_layer_errors(client):
    with pytest.raises(LayerError) as info:
        client.get_conversation("00000000-0000-4000-8000-000000000000")
    assert info.value.status == 404
    assert info.value.body["id"] == "not_found"


def test_desk_ticket_flow(client):
    desk = SupportDesk(client)
    ticket = desk.open_ticket("alice", "bob", "Broken zipper")
    cid = conversation_uuid(ticket)
    assert desk.escalate(cid, "carol") == ["alice", "bob", "carol"]
    assert desk.agents_on(cid, ["bob", "carol", "zed"]) == ["bob", "carol"]
    bodies = [m["parts"][0]["body"] for m in client.list_messages(cid)]
    assert bodies == ["Hi! bob will help you with: Broken zipper"]
