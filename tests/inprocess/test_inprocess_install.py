"""``install()`` itself: validation at install time, idempotence, uninstall, threads, fork,
post-import hooking, DEBUG log without tokens."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import httpx
import pytest
import requests

import layer_migrate
from layer_migrate.emulator import Emulator
from layer_migrate.inprocess import InstallError, current
from layer_migrate.inprocess.patching import post_import_hooks

V11 = "application/vnd.layer+json; version=1.1"


@pytest.fixture(scope="module")
def emu():
    with Emulator().running() as e:
        yield e


def _send_as_bot(emu, session=None, name="Support"):
    s = session or requests
    return s.post(f"https://api.layer.com/apps/{emu.app_id}/conversations", timeout=10,
                  json={"participants": ["alice", "bob"], "distinct": False},
                  headers={"Accept": V11, "Authorization": f"Bearer {emu.token}"})


@pytest.mark.parametrize("kwargs, message", [
    ({"to": "9.9"}, "unknown Platform API version '9.9'"),
    ({"to": "1.1"}, "to must be one of 2.0, 3.0"),
    ({"upstream": "ftp://x"}, "upstream must be an http(s)://host[:port] URL"),
    ({"upstream": "http://"}, "upstream must be an http(s)://host[:port] URL"),
    ({"upstream": "http://h:99999"}, "is not a valid URL"),
    ({"upstream": "http://user:pw@h"}, "must not carry credentials"),
    ({"hosts": ["https://api.layer.com/"]}, "bare host name"),
    ({"hosts": []}, "at least one host"),
    ({"bot_map": "/nonexistent/bots.json"}, "/nonexistent/bots.json: cannot read bot map"),
    ({"bot_map": {"Support": 3}}, "bot_map must map display names"),
    ({"options": {"no_such_option": True}}, "unknown option 'no_such_option'"),
    ({"options": {"part_ids": "sideways"}}, "part_ids must be"),
])
def test_bad_configuration_fails_at_install_with_one_line(kwargs, message):
    before = requests.Session.get_adapter
    with pytest.raises(InstallError) as info:
        layer_migrate.install(**{"to": "3.0", **kwargs})
    text = str(info.value)
    assert message in text and "\n" not in text
    assert current() is None and requests.Session.get_adapter is before


def test_malformed_bot_map_names_file_and_line(tmp_path):
    bad = tmp_path / "bots.json"
    bad.write_text('{"Support": "bot-support",\n  oops}\n')
    with pytest.raises(InstallError, match=rf"{bad}:2: bot map is not valid JSON"):
        layer_migrate.install("3.0", bot_map=bad)


def test_idempotent_and_refuses_other_settings():
    a = layer_migrate.install("3.0", upstream="http://127.0.0.1:9")
    assert layer_migrate.install("3.0", upstream="http://127.0.0.1:9") is a
    with pytest.raises(InstallError, match="already installed"):
        layer_migrate.install("2.0", upstream="http://127.0.0.1:9")
    layer_migrate.uninstall()
    layer_migrate.uninstall()  # idempotent too
    assert not a.active and current() is None


def test_uninstall_restores_the_libraries_exactly():
    originals = (requests.Session.get_adapter, httpx.HTTPTransport.handle_request,
                 httpx.AsyncHTTPTransport.handle_async_request)
    import aiohttp

    init = aiohttp.ClientSession.__init__
    with layer_migrate.install("3.0") as inst:
        assert inst.hooked == {"requests": "hooked", "httpx": "hooked", "aiohttp": "hooked"}
        assert requests.Session.get_adapter is not originals[0]
        assert aiohttp.ClientSession.__init__ is not init
    assert (requests.Session.get_adapter, httpx.HTTPTransport.handle_request,
            httpx.AsyncHTTPTransport.handle_async_request) == originals
    assert aiohttp.ClientSession.__init__ is init


def test_a_wrapper_added_after_us_survives_uninstall_and_we_pass_through(emu):
    original = requests.Session.get_adapter
    try:
        with layer_migrate.install("3.0", upstream=emu.url):
            ours = requests.Session.get_adapter
            calls = []

            def theirs(self, url):  # e.g. an APM agent wrapping after us
                calls.append(url)
                return ours(self, url)

            requests.Session.get_adapter = theirs
        assert requests.Session.get_adapter is theirs  # not torn out by our uninstall
        adapter = requests.Session().get_adapter("https://api.layer.com/apps/x")
        assert type(adapter) is requests.adapters.HTTPAdapter  # ours passes through now
        assert calls == ["https://api.layer.com/apps/x"]
    finally:
        requests.Session.get_adapter = original


def test_sessions_created_before_install_are_migrated(emu):
    s = requests.Session()
    c = httpx.Client(timeout=10)
    with layer_migrate.install("3.0", upstream=emu.url):
        r = _send_as_bot(emu, s)
        h = c.post(f"https://api.layer.com/apps/{emu.app_id}/conversations",
                   json={"participants": ["a", "b"], "distinct": False},
                   headers={"Accept": V11, "Authorization": f"Bearer {emu.token}"})
    assert r.status_code == h.status_code == 201
    assert h.json()["participants"] == ["a", "b"]
    c.close()


def test_library_imported_after_install_is_hooked_on_import():
    """``layer-migrate run`` installs before the program imports anything: the hooks go in when
    the library's module has run, and installing imports none of the three libraries."""
    code = (
        "import sys, layer_migrate\n"
        "inst = layer_migrate.install('3.0')\n"
        "print(sorted(m for m in ('requests', 'httpx', 'aiohttp') if m in sys.modules))\n"
        "print(inst.hooked['httpx'])\n"
        "import httpx\n"
        "print(inst.hooked['httpx'], httpx.HTTPTransport.handle_request.__qualname__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "[]"
    assert lines[1] == "pending import"
    assert lines[2].startswith("hooked hook_httpx.")


def test_uninstall_before_import_drops_pending_hooks():
    code = (
        "import sys, layer_migrate\n"
        "from layer_migrate.inprocess.patching import post_import_hooks\n"
        "layer_migrate.install('3.0'); layer_migrate.uninstall()\n"
        "print(post_import_hooks.pending(), post_import_hooks in sys.meta_path)\n"
        "import httpx; print(httpx.HTTPTransport.handle_request.__qualname__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["[] False", "HTTPTransport.handle_request"], out.stderr
    assert post_import_hooks.pending() == []


def test_threads_install_once_and_provision_the_bot_once():
    with Emulator().running() as e:
        got: list = []
        errors: list = []

        def worker():
            try:
                inst = layer_migrate.install("3.0", upstream=e.url)
                got.append(inst)
                r = requests.post(f"https://api.layer.com/apps/{e.app_id}/conversations/x/messages",
                                  timeout=10, json={"sender": {"name": "Support"},
                                                    "parts": [{"body": "hi", "mime_type": "text/plain"}]},
                                  headers={"Accept": V11, "Authorization": f"Bearer {e.token}"})
                got.append(r.status_code)
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        insts = [g for g in got if not isinstance(g, int)]
        assert len(insts) == 8 and all(i is insts[0] for i in insts)
        # the conversation does not exist (404), but the bot was provisioned first, exactly once
        assert [g for g in got if isinstance(g, int)] == [404] * 8
        bots = [i for i in e.store.identities() if i["user_id"].startswith("bot-")]
        assert len(bots) == 1 and insts[0].migrator.prereqs.created == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_forked_child_gets_fresh_pools_and_keeps_what_the_parent_learnt(emu):
    inst = layer_migrate.install("3.0", upstream=emu.url)
    assert _send_as_bot(emu).status_code == 201  # the parent's pool now holds a connection
    parent_adapter = inst.requests_face.adapter
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report and leave without running the parent's atexit/pytest machinery
        code = 1
        try:
            os.close(read)
            status = _send_as_bot(emu).status_code
            fresh = inst.requests_face.adapter is not parent_adapter
            os.write(write, json.dumps([status, fresh, current() is inst]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        report = json.loads(f.read() or "null")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert report == [201, True, True]
    assert _send_as_bot(emu).status_code == 201  # the parent's own pool still works
    assert inst.requests_face.adapter is parent_adapter


def test_debug_log_names_rules_and_never_the_token(emu, caplog):
    caplog.set_level(logging.DEBUG, logger="layer_migrate.inprocess")
    with layer_migrate.install("3.0", upstream=emu.url):
        _send_as_bot(emu)
        requests.post(f"https://api.layer.com/apps/{emu.app_id}/users/alice/blocks?token=secret-q",
                      data=b"{not json", timeout=10,
                      headers={"Accept": V11, "Authorization": f"Bearer {emu.token}",
                               "Content-Type": "application/json"})
    lines = [r.getMessage() for r in caplog.records if r.name == "layer_migrate.inprocess"]
    created = [m for m in lines if "[conversations.create]" in m]
    assert created and "1.1 -> 3.0: status 201" in created[0]
    assert "hdr.accept.v3" in created[0] and "v2.participants.identity_ids" in created[0]
    text = "\n".join(lines)
    assert emu.token not in text and "secret-q" not in text and "Bearer" not in text


def test_reroute_only_sends_the_v1_call_unchanged(emu):
    with layer_migrate.install(None, upstream=emu.url) as inst:
        r = _send_as_bot(emu)
    assert r.status_code == 201 and r.json()["participants"] == ["alice", "bob"]
    assert inst.summary()["conversations.create"]["rules"] == {}


def test_options_and_bot_map_reach_the_engine(emu, tmp_path):
    bots = tmp_path / "bots.json"
    bots.write_text('{"Support": "support-bot-7"}')
    with layer_migrate.install("3.0", upstream=emu.url, bot_map=bots,
                               options={"drop_nulls": True}) as inst:
        conv = _send_as_bot(emu).json()
        r = requests.post(f"https://api.layer.com/apps/{emu.app_id}/conversations/{conv['id'].rsplit('/', 1)[1]}/messages",
                          timeout=10, json={"sender": {"name": "Support"},
                                            "parts": [{"body": "hi", "mime_type": "text/plain"}]},
                          headers={"Accept": V11, "Authorization": f"Bearer {emu.token}"})
    assert inst.config.options.drop_nulls is True
    assert r.status_code == 201 and r.json()["sender"]["name"] == "Support"
    assert "support-bot-7" in {i["user_id"] for i in emu.store.identities()}
    assert "metadata" not in conv  # drop_nulls (R08): the null metadata key is gone


def test_upstream_down_is_a_layer_error_not_an_exception():
    from layer_migrate.proxy.serving import free_port

    with layer_migrate.install("3.0", upstream=f"http://127.0.0.1:{free_port()}"):
        r = requests.get("https://api.layer.com/apps/a/conversations/c", timeout=10,
                         headers={"Accept": V11})
        h = httpx.get("https://api.layer.com/apps/a/conversations/c", headers={"Accept": V11})
    assert r.status_code == h.status_code == 502
    assert r.json()["id"] == h.json()["id"] == "service_unavailable"
    assert set(r.json()) >= {"id", "code", "message", "url", "data"}


@pytest.mark.parametrize("autocreate, status", [(False, 404), (True, 200)])
def test_response_side_prerequisites_run_in_process(autocreate, status):
    """R10 (``autocreate_users``): a 404 for an unknown user creates it and repeats the call —
    one call in the summary, its rules counted once."""
    with Emulator().running() as e, layer_migrate.install(
            "3.0", upstream=e.url, options={"autocreate_users": autocreate}) as inst:
        r = requests.get(f"https://api.layer.com/apps/{e.app_id}/users/zed/conversations", timeout=10,
                         headers={"Accept": "application/vnd.layer+json; version=1.0",
                                  "Authorization": f"Bearer {e.token}"})
        made = {i["user_id"] for i in e.store.identities()}
    assert r.status_code == status
    info = inst.summary()["user.conversations.list"]
    assert info["calls"] == 1 and info["rules"]["hdr.accept.v3"] == 1
    assert ("zed" in made) is autocreate
    assert ("err.user_autocreate" in info["rules"]) is autocreate
