"""The desk's model classes: a helper class that builds senders, ``from_dict`` response parsers.

Their public contract (user ids, v1 sender shape) must hold before and after the migration."""

from legacy_app.layer_client import Agent

from .conftest import conversation_uuid


def test_conversation_parser_gives_user_ids(client, conversation):
    conv = client.conversation(conversation_uuid(conversation))
    assert sorted(conv.participants) == ["alice", "bob"]


def test_send_as_an_agent(client, conversation):
    msg = client.send_as(conversation_uuid(conversation), Agent(user_id="bob"), "on it")
    assert msg.sender["user_id"] == "bob" and not msg.sender.get("name")
    assert set(msg.recipient_status) == {"alice", "bob"}
    assert msg.recipient_status["bob"] == "read"


def test_send_as_the_bot(client, conversation):
    msg = client.send_as(conversation_uuid(conversation), Agent(bot_name="Support"), "hello")
    assert msg.sender["name"] == "Support" and msg.sender["user_id"] is None
