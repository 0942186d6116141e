"""Harness for the end-to-end test on the real v1 Python SDK (PyPI ``LayerClient==0.1.10``).

The SDK is downloaded as source in test setup (``pip download --no-binary :all:``) into a cache
folder shared by test runs, never committed. It hard-codes ``https://api.layer.com`` and calls the
module-level ``requests.request``; the harness points it at the emulator by replacing the module's
``requests`` attribute with a shim that rewrites the base URL — the SDK's code is never edited.

:func:`exercise` calls every ``PlatformClient`` method that talks to the server and checks what
its docstring promises to its callers (user ids stay user ids, senders keep id/name).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import types
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

SDK = "LayerClient==0.1.10"
CACHE = Path(os.environ.get("LAYER_MIGRATE_SDK_CACHE", Path(tempfile.gettempdir()) / "layer-migrate-sdk-cache"))
USERS = {"alice": "Alice", "bob": "Bob", "partner/dave+ext@example.com": "Dave"}
BOTS = {"Support": "support-bot"}


class SdkUnavailable(Exception):
    """The SDK source could not be downloaded (no registry access)."""


def sdk_source() -> Path:
    """Folder holding the unpacked SDK source (``LayerClient/LayerClient.py``), cached."""
    target = CACHE / "LayerClient-0.1.10"
    if (target / "LayerClient" / "LayerClient.py").is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               SDK, "-d", tmp], capture_output=True, text=True, timeout=300)
        archives = list(Path(tmp).glob("LayerClient-0.1.10.*"))
        if proc.returncode != 0 or not archives:
            installed = _installed_copy(target)  # the test extra installs the same sdist
            if installed is not None:
                return installed
            raise SdkUnavailable(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no archive")
        shutil.unpack_archive(str(archives[0]), tmp)
        os.replace(Path(tmp) / "LayerClient-0.1.10", target)
    return target


def _installed_copy(target: Path) -> Path | None:
    """Copy the installed ``LayerClient`` package (pure Python, from the same sdist) when the
    download is not possible here; None when it is not installed either."""
    spec = importlib.util.find_spec("LayerClient.LayerClient")
    if spec is None or spec.origin is None:
        return None
    (target / "LayerClient").mkdir(parents=True, exist_ok=True)
    shutil.copy(spec.origin, target / "LayerClient" / "LayerClient.py")
    (target / "LayerClient" / "__init__.py").write_text("")
    return target


def load(path: Path, base_url: str) -> types.ModuleType:
    """Import the SDK module at ``path`` under a fresh name, its ``requests`` pointed at ``base_url``."""
    spec = importlib.util.spec_from_file_location(f"LayerClient_{uuid.uuid4().hex}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def request(method: str, url: str, **kw: Any) -> requests.Response:
        assert url.startswith("https://api.layer.com/"), url
        return requests.request(method, base_url + url[len("https://api.layer.com"):], timeout=30, **kw)

    mod.requests = types.SimpleNamespace(request=request)  # type: ignore[attr-defined]
    return mod


def provision(emu: Any) -> None:
    """Identities for the users and the bot (3.0 needs them for sender_id; harmless at 1.0)."""
    for uid, name in USERS.items():
        requests.post(emu.url + emu.path(f"/users/{requests.utils.quote(uid, safe='')}/identity"),
                      json={"display_name": name}, headers=emu.headers("3.0"), timeout=30)
    for name, uid in BOTS.items():
        requests.post(emu.url + emu.path(f"/users/{uid}/identity"),
                      json={"display_name": name, "identity_type": "bot"}, headers=emu.headers("3.0"), timeout=30)


def exercise(mod: types.ModuleType, emu: Any) -> dict[str, str | None]:
    """Run every server-calling method; ``{method: None if it kept its promise else the error}``."""
    c = mod.PlatformClient(emu.app_id, emu.token)
    results: dict[str, str | None] = {}
    state: dict[str, Any] = {}

    def check(name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
            results[name] = None
        except Exception as exc:  # the test reports every failing method at once
            results[name] = f"{type(exc).__name__}: {exc}"[:300]

    def create() -> None:
        conv = c.create_conversation(["alice", "bob", "partner/dave+ext@example.com"],
                                     metadata={"ticket": uuid.uuid4().hex})
        state["conv"] = conv
        assert sorted(conv.participants) == ["alice", "bob", "partner/dave+ext@example.com"], conv.participants
        assert conv.uuid()

    def get_conversation() -> None:
        conv = c.get_conversation(state["conv"].uuid())
        assert sorted(conv.participants) == ["alice", "bob", "partner/dave+ext@example.com"], conv.participants

    def get_conversations() -> None:
        convs = c.get_conversations("alice")
        assert convs and all(isinstance(x, mod.Conversation) for x in convs)
        assert all("alice" in x.participants for x in convs), [x.participants for x in convs]

    def update_conversation() -> None:
        c.update_conversation(state["conv"].uuid(), metadata={"stage": "2"})
        assert c.get_conversation(state["conv"].uuid()).metadata["stage"] == "2"

    def send_message() -> None:
        note = mod.PushNotification("hello", sound="chime",
                                    recipients={"bob": mod.PushNotification("for bob", sound="ding")})
        m = c.send_message(state["conv"], mod.Sender(id="alice"), [mod.MessagePart("hi")], notification=note)
        state["msg"] = m
        assert m.sender.id == "alice" and not m.sender.name, (m.sender.id, m.sender.name)
        assert set(m.recipient_status) == {"alice", "bob", "partner/dave+ext@example.com"}, m.recipient_status

    def send_message_as_bot() -> None:
        m = c.send_message(state["conv"], mod.Sender(name="Support"), [mod.MessagePart("from the bot")])
        assert m.sender.name == "Support" and m.sender.id is None, (m.sender.name, m.sender.id)

    def get_messages() -> None:
        msgs = c.get_messages(state["conv"].uuid())
        assert len(msgs) >= 2
        for m in msgs:
            assert set(m.recipient_status) <= {"alice", "bob", "partner/dave+ext@example.com"}, m.recipient_status
            assert (m.sender.id, m.sender.name) in (("alice", None), (None, "Support")), (m.sender.id, m.sender.name)

    def receipt() -> None:
        c.send_message_receipt("bob", state["msg"].uuid(), mod.LayerMessageReceipt.READ)
        got = [m for m in c.get_messages(state["conv"].uuid()) if m.id == state["msg"].id][0]
        assert got.recipient_status["bob"] == "read", got.recipient_status

    def announcement() -> None:
        note = mod.PushNotification("all", recipients={"bob": mod.PushNotification("bob", sound="s")})
        a = c.send_announcement(mod.Sender(name="Support"), ["alice", "bob"], [mod.MessagePart("x")],
                                notification=note)
        assert sorted(a.recipients) == ["alice", "bob"], a.recipients
        assert a.sender.name == "Support" and a.sender.id is None, (a.sender.name, a.sender.id)

    def replace_identity() -> None:
        c.replace_identity(mod.Sender(id="alice", display_name="Alice A"))
        assert c.get_identity("alice").display_name == "Alice A"

    def get_identity() -> None:
        ident = c.get_identity("bob")
        assert ident.id == "bob" and ident.display_name == "Bob", (ident.id, ident.display_name)

    def badge() -> None:
        c.update_user_external_badge_count("alice", 3)

    def rich_content() -> None:
        rc = c.prepare_rich_content(state["conv"], "text/plain", 10)
        assert rc.upload_url

    def delete_message() -> None:
        c.delete_message(state["conv"].uuid(), state["msg"].uuid())
        assert state["msg"].id not in [m.id for m in c.get_messages(state["conv"].uuid())]

    def delete_conversation() -> None:
        c.delete_conversation(state["conv"].uuid())

    for name, fn in [("create_conversation", create), ("get_conversation", get_conversation),
                     ("get_conversations", get_conversations), ("update_conversation", update_conversation),
                     ("send_message", send_message), ("send_message(bot)", send_message_as_bot),
                     ("get_messages", get_messages), ("send_message_receipt", receipt),
                     ("send_announcement", announcement), ("replace_identity", replace_identity),
                     ("get_identity", get_identity), ("update_user_external_badge_count", badge),
                     ("prepare_rich_content", rich_content), ("delete_message", delete_message),
                     ("delete_conversation", delete_conversation)]:
        check(name, fn)
    return results
