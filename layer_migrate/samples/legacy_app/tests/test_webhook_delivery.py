"""A real 1.0 webhook delivery from the emulator to the desk's receiver (over HTTP)."""

import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from legacy_app.webhooks import make_app

from .conftest import conversation_uuid

SECRET = "desk-secret"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    seen = []
    server = make_server("127.0.0.1", 0, make_app(SECRET, seen.append), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/layer/hooks", seen
    server.shutdown()
    server.server_close()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_message_sent_reaches_the_receiver(client, conversation, receiver):
    url, seen = receiver
    hook = client.register_webhook(url, SECRET, config={"desk": "eu"})
    assert hook["version"] == "1.0"
    assert wait_for(lambda: client.get_webhook(hook["id"])["status"] == "active")
    client.send_message(conversation_uuid(conversation), "alice", "Package arrived")
    assert wait_for(lambda: any(s["text"] == "Package arrived" for s in seen))
    summary = next(s for s in seen if s["text"] == "Package arrived")
    assert summary["from"] == "alice"
    assert summary["conversation"] == conversation["id"]
    assert summary["unread_by"] == ["bob"]
