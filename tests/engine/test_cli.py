"""``layer-migrate translate|validate|rules``: the stable JSON interface, run as a real subprocess."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "layer_migrate.cli"]


def run(args, stdin=None):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=60)


def test_translate_request_blocks_from_stdin():
    ex = {"method": "POST", "path": "/apps/A/users/u1/blocks",
          "headers": {"Accept": "application/vnd.layer+json; version=1.1"}, "body": {"user_id": "x"}}
    p = run(["translate", "request", "--to", "3.0"], json.dumps(ex))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) == {"request", "prerequisites", "applied", "lossy"}
    assert out["request"]["method"] == "PATCH" and out["request"]["path"] == "/apps/A/users/u1"
    assert out["request"]["headers"]["content-type"] == "application/vnd.layer-patch+json"
    assert out["request"]["body"] == [{"operation": "add", "property": "blocks", "id": "layer:///identities/x"}]


def test_translate_request_bot_map_and_prerequisites(tmp_path):
    bots = tmp_path / "bots.json"
    bots.write_text(json.dumps({"Support": "support-bot"}))
    ex = tmp_path / "send.json"
    ex.write_text(json.dumps({"method": "POST", "path": "/apps/A/conversations/C/messages", "headers": {},
                              "body": {"sender": {"name": "Support"}, "parts": []}}))
    p = run(["translate", "request", "--to", "2.0", "--from", "1.0", "--bot-map", str(bots), str(ex)])
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["request"]["body"] == {"sender_id": "layer:///identities/support-bot", "parts": []}
    assert out["prerequisites"] == [{"kind": "ensure_identity", "user_id": "support-bot",
                                     "display_name": "Support", "identity_type": "bot"}]


def test_translate_response_202_to_204(tmp_path):
    ex = {"request": {"method": "DELETE", "path": "/apps/A/users/o/blocks/x", "headers": {}},
          "response": {"status": 202, "headers": {}, "body": None}}
    p = run(["translate", "response", "--to", "1.0", "--from", "3.0"], json.dumps(ex))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["response"]["status"] == 204 and out["applied"] == ["v2.blocks.delete_to_patch"]


def test_translate_response_carries_the_clients_version_in_content_type():
    """Issue 16: a 3.0 answer downgraded for a v1 client says the client's version, not 3.0."""
    conv = {"id": "layer:///conversations/c", "participants": [{"id": "layer:///identities/a", "user_id": "a"}]}
    ex = {"request": {"method": "GET", "path": "/apps/A/conversations/c",
                      "headers": {"accept": "application/vnd.layer+json; version=1.0"}},
          "response": {"status": 200, "body": conv,
                       "headers": {"content-type": "application/vnd.layer+json; version=3.0; charset=utf-8"}}}
    p = run(["translate", "response", "--from", "3.0"], json.dumps(ex))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["response"]["headers"]["content-type"] == "application/vnd.layer+json; version=1.0; charset=utf-8"
    assert out["response"]["body"]["participants"] == ["a"]
    assert {"hdr.accept.v3", "hdr.accept.v2"} <= set(out["applied"])


def test_translate_payload_and_webhook():
    msg = {"id": "layer:///messages/m", "sender": {"id": "layer:///identities/u", "user_id": "u"},
           "parts": [], "recipient_status": {"layer:///identities/u": "read"}}
    p = run(["translate", "payload", "--kind", "message", "--from", "3.0", "--to", "1.0"], json.dumps(msg))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["payload"]["sender"] == {"user_id": "u", "name": None}
    body = {"event": {"type": "Message.created", "id": "e", "created_at": "t"}, "message": msg}
    p = run(["translate", "webhook", "--event", "Message.created"], json.dumps(body))
    out = json.loads(p.stdout)
    assert [e["type"] for e in out["events"]] == ["message.sent"]


def test_refusal_prints_layer_error_and_exits_1():
    ex = {"method": "POST", "path": "/apps/A/announcements", "headers": {},
          "body": {"recipients": "everyone", "sender": {"name": "A"}, "parts": []}}
    p = run(["translate", "request", "--to", "3.0"], json.dumps(ex))
    assert p.returncode == 1
    err = json.loads(p.stdout)
    assert err["id"] == "invalid_property" and err["code"] == 105 and err["data"] == {"property": "recipients"}
    assert "HTTP 422" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize(("args", "stdin", "needle"), [
    (["translate", "request", "--to", "3.0"], '{"method": "GET",\n "path": ', "<stdin>:2: invalid JSON"),
    (["translate", "request", "--to", "3.0"], '{"path": "/x"}', "missing 'method'"),
    (["translate", "request", "--to", "4.0"], "{}", "4.0"),
    (["translate", "request", "--to", "3.0", "/nonexistent.json"], None, "cannot read"),
    (["translate", "request", "--to", "3.0", "--option", "part_ids=sideways"], '{"method":"GET","path":"/"}',
     "part_ids"),
    (["validate", "--version", "2.0", "--kind", "nope"], "{}", "unknown schema kind"),
])
def test_usage_errors_exit_2_one_line(args, stdin, needle):
    p = run(args, stdin)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert needle in p.stderr
    assert "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) <= 3


def test_validate(tmp_path):
    good = tmp_path / "m.json"
    good.write_text(json.dumps({"sender_id": "layer:///identities/u", "parts": [{"body": "x", "mime_type": "text/plain"}]}))
    p = run(["validate", "--version", "2.0", "--kind", "message_request", str(good)])
    assert p.returncode == 0 and "valid" in p.stdout
    p = run(["validate", "--version", "1.1", "--kind", "message_request", str(good)])
    assert p.returncode == 1 and "sender" in p.stdout


def test_rules_listing_and_help_examples():
    p = run(["rules", "--json"])
    data = json.loads(p.stdout)
    assert any(r["spec"] == "R38" and r["examples"] for r in data)
    for cmd in (["translate", "request"], ["translate", "response"], ["translate", "payload"], ["validate"],
                ["rules"]):
        h = run(cmd + ["--help"])
        assert h.returncode == 0 and "Example" in h.stdout


USER_RULE = '''"""X01 — Example user rule: conversations get a default metadata title (R99 local)."""
from layer_migrate.rulebook import Rule

rule = Rule("local.default_title", spec="X01", step=("1.1", "2.0"), endpoints={"conversations.create"},
            direction="request")


@rule.request_up
def title(ctx):
    if isinstance(ctx.body, dict) and "metadata" not in ctx.body:
        ctx.body = {**ctx.body, "metadata": {"title": "untitled"}}
        return True
    return False


rule.example("request", {"participants": ["a"]},
             {"participants": ["layer:///identities/a"], "metadata": {"title": "untitled"}},
             endpoint="conversations.create", method="POST", path="/apps/A/conversations")
'''


def test_user_rule_folder(tmp_path):
    d = tmp_path / "myrules"
    d.mkdir()
    (d / "default_title.py").write_text(USER_RULE)
    ex = {"method": "POST", "path": "/apps/A/conversations", "headers": {}, "body": {"participants": ["a"]}}
    p = run(["translate", "request", "--to", "3.0", "--rules", str(d)], json.dumps(ex))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["request"]["body"]["metadata"] == {"title": "untitled"} and "local.default_title" in out["applied"]
    p = run(["rules", "--rules", str(d)])
    assert "local.default_title" in p.stdout
    (d / "broken.py").write_text("from layer_migrate.rulebook import Rule\n\nrule = Rule(\n")
    p = run(["rules", "--rules", str(d)])
    assert p.returncode == 2 and "broken.py:" in p.stderr and "Traceback" not in p.stderr


def test_webhook_and_group_help_have_examples():
    for cmd in (["translate"], ["translate", "webhook"]):
        h = run(cmd + ["--help"])
        assert h.returncode == 0 and "Example" in h.stdout
