"""Run the desk's tests against a local Layer Platform API emulator.

The emulator answers every version; which one the code speaks is chosen by its Accept header,
exactly as with api.layer.com. ``LAYER_API_URL`` etc. are pointed at the emulator so the client
is configured the same way as in production.
"""

import os
import uuid

import pytest
from legacy_app.layer_client import LayerClient

from layer_migrate.emulator import Emulator

USERS = {"alice": "Alice Customer", "bob": "Bob Agent", "carol": "Carol Supervisor",
         "partner/dave+ext@example.com": "Dave (partner)", "support-bot": "Support"}


@pytest.fixture(scope="session")
def emulator():
    with Emulator().running() as emu:
        yield emu


@pytest.fixture(scope="session")
def client(emulator):
    os.environ["LAYER_API_URL"] = emulator.url
    os.environ["LAYER_APP_ID"] = emulator.app_id
    os.environ["LAYER_TOKEN"] = emulator.token
    layer = LayerClient()
    for user_id, name in USERS.items():
        layer.create_identity(user_id, name)
    return layer


@pytest.fixture
def conversation(client):
    """A fresh conversation between alice and bob (tagged so tests do not share state)."""
    return client.create_conversation(["alice", "bob"], metadata={"ticket": uuid.uuid4().hex})


def conversation_uuid(conversation):
    return conversation["id"].rsplit("/", 1)[-1]
