"""What a new user touches first (issue 16): `rules RULE`, `validate` wording, `samples`, 406 hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="80", TERM="dumb")
    return subprocess.run([sys.executable, "-m", "layer_migrate.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd, input=stdin)


@pytest.mark.parametrize("wanted", ["R22", "r22", "22", "v2.sender.name_to_bot"])
def test_rules_shows_one_rule_with_its_examples(wanted):
    proc = cli("rules", wanted)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("R22 — v2.sender.name_to_bot\n")
    assert "Example 1:" in out and '"sender_id": "layer:///identities/bot-t-bone"' in out
    assert "``" not in out and ":class:" not in out
    assert all(len(line) <= 80 for line in out.splitlines() if not line.startswith("    ")), out


def test_rules_unknown_rule_suggests_close_ones():
    proc = cli("rules", "v2.sender.nam")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "no rule 'v2.sender.nam'" in proc.stderr and "v2.sender.name_to_bot" in proc.stderr


def test_rules_list_fits_80_columns_without_markup_or_repeated_numbers():
    proc = cli("rules")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert "``" not in proc.stdout
    r02 = next(i for i, line in enumerate(lines) if line.startswith("R02 "))
    assert "R02" not in lines[r02 + 1]  # the summary does not repeat the number
    words = " ".join(lines).split()
    assert "versio-" not in words  # wrapped at word boundaries


def test_validate_explains_alternatives_in_plain_words(tmp_path):
    body = tmp_path / "conversation.json"
    body.write_text(json.dumps({"participants": ["a"], "metadata": {"a": [1, 2]}}))
    proc = cli("validate", "--version", "1.1", "--kind", "conversation_request", str(body))
    assert proc.returncode == 1
    assert proc.stdout.strip() == f"{body}: metadata.a: the array is not of type 'string'"
    message = tmp_path / "message.json"
    message.write_text(json.dumps({"sender": {"user_id": "a"},
                                   "parts": [{"body": "x", "content": {"id": "c"}, "mime_type": "text/plain"}]}))
    proc = cli("validate", "--version", "1.1", "--kind", "message_request", str(message))
    assert proc.stdout.strip() == f"{message}: parts[0]: must not have 'content' here"


def test_samples_copies_files_and_refuses_to_overwrite(tmp_path):
    proc = cli("samples", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "bot-map.json").is_file()
    assert (tmp_path / "out" / "payloads" / "send-message-as-bot.json").is_file()
    assert (tmp_path / "out" / "legacy_app" / "legacy_app" / "layer_client.py").is_file()
    again = cli("samples", "out", cwd=tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_unsupported_version_names_the_supported_ones():
    exchange = {"method": "GET", "path": "/apps/A/conversations",
                "headers": {"Accept": "application/vnd.layer+json; version=4.0"}}
    proc = cli("translate", "request", "--to", "3.0", stdin=json.dumps(exchange))
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["id"] == "invalid_header"  # the documented body, unchanged
    assert "supported versions: 1.0, 1.1, 2.0, 3.0" in proc.stderr
