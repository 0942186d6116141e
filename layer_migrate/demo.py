"""``layer-migrate demo``: the whole toolkit on the bundled sample app, in one command.

What a newcomer should see in their first minute: a legacy v1 client talking to a 3.0 server
through the proxy (each v1 call, the upstream call it became, the rules applied), a 3.0 webhook
reaching the v1 receiver re-signed in 1.0 shape, and what the codemod would change in the sample's
source. Everything runs on free 127.0.0.1 ports and in a temporary folder; nothing else is touched.
The demo exits 0 only if every step did what it should.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import click
import httpx
from rich import box
from rich.console import Console
from rich.table import Table

RECEIVER_SECRET = "demo-v1-receiver-secret"
UPSTREAM_WEBHOOK_SECRET = "demo-upstream-webhook-secret"
UPSTREAM_VERSION = "3.0"
WIDTH = 80


class DemoFailure(Exception):
    """A step did not do what it should; the message says which and why."""


def sample_root() -> Path:
    """The bundled samples: shipped in the wheel as ``layer_migrate/samples``, or the checkout's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "samples", here.parent / "samples"):
        if (candidate / "legacy_app" / "legacy_app" / "layer_client.py").is_file():
            return candidate
    raise DemoFailure("the sample app is missing (expected samples/legacy_app next to the package)")


@dataclass
class Step:
    label: str
    run: Callable[[], Any]
    check: Callable[[Any], bool] = lambda _result: True
    expect: str = ""


@dataclass
class Receiver:
    """The sample's v1 webhook receiver (a WSGI app) served on a free loopback port."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@contextlib.contextmanager
def serve_receiver(make_app: Callable[..., Any]) -> Iterator[Receiver]:
    holder: list[dict[str, Any]] = []
    server = make_server("127.0.0.1", 0, make_app(RECEIVER_SECRET, holder.append),
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="demo-v1-receiver", daemon=True)
    thread.start()
    try:
        yield Receiver(url=f"http://127.0.0.1:{server.server_port}/layer-webhooks", received=holder)
    finally:
        server.shutdown()
        server.server_close()


def short_path(path: str) -> str:
    """``/apps/<uuid>/users/alice/blocks`` → ``…/users/alice/blocks`` (fits 80 columns)."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) > 2 and parts[1] == "apps":
        rest = "/".join(parts[3:])
        path = "/" + rest if rest else "/apps/:app"
    segments = [":id" if len(s) >= 32 and s.count("-") >= 4 else s for s in path.split("/")]
    return "/".join(segments)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


def register_upstream_webhook(emu: Any, target_url: str) -> None:
    """Register a 3.0 webhook on the emulator whose target is the proxy's relay endpoint."""
    headers = {"Accept": "application/vnd.layer.webhooks+json; version=3.0",
               "Authorization": f"Bearer {emu.token}", "Content-Type": "application/json"}
    body = {"version": "3.0", "target_url": target_url, "events": ["Message.created"],
            "secret": UPSTREAM_WEBHOOK_SECRET, "config": {"source": "layer-migrate demo"}}
    resp = httpx.post(f"{emu.url}/apps/{emu.app_id}/webhooks", json=body, headers=headers, timeout=10)
    if resp.status_code != 201:
        raise DemoFailure(f"webhook registration answered {resp.status_code}: {resp.text[:200]}")
    hook_url = f"{emu.url}/apps/{emu.app_id}/webhooks/{resp.json()['id'].rsplit('/', 1)[-1]}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = httpx.get(hook_url, headers=headers, timeout=10).json().get("status")
        if status == "active":
            return
        time.sleep(0.05)
    raise DemoFailure("the 3.0 webhook never became active (verification challenge through the proxy failed)")


def scenario(client: Any) -> list[Step]:
    """The v1 calls the sample app makes, each with the outcome a v1 server would give."""
    state: dict[str, Any] = {}

    def create_conversation() -> Any:
        state["conv"] = client.create_conversation(["alice", "bob"], metadata={"ticket": "T-1001"})
        state["cid"] = state["conv"]["id"].rsplit("/", 1)[-1]
        return state["conv"]

    return [
        Step("create identity alice", lambda: client.create_identity("alice", "Alice Customer")),
        Step("create identity bob", lambda: client.create_identity("bob", "Bob Agent")),
        Step("create identity carol", lambda: client.create_identity("carol", "Carol Lead")),
        Step("create conversation", create_conversation,
             lambda c: sorted(c["participants"]) == ["alice", "bob"], "participants are user ids"),
        Step("add carol", lambda: client.patch_participants(state["cid"], add=["carol"])),
        Step("read participants", lambda: client.participants_of(state["cid"]),
             lambda p: p == ["alice", "bob", "carol"], "alice, bob, carol"),
        Step("message from alice", lambda: client.send_message(state["cid"], "alice", "Hi, my order is late",
                                                               notify={"bob": "Alice needs help"}),
             lambda m: m["sender"] == {"user_id": "alice", "name": None}, "v1 sender object"),
        Step("message from a bot name", lambda: client.send_bot_message(state["cid"], "We're on it!"),
             lambda m: m["sender"] == {"user_id": None, "name": "Support"}, "sender.name kept"),
        Step("list messages", lambda: client.list_messages(state["cid"]),
             lambda ms: len(ms) == 2 and all(p["id"].endswith(("/parts/0", "/parts/1"))
                                             for m in ms for p in m["parts"]), "index part ids"),
        Step("announcement", lambda: client.announce(["alice", "bob"], "Maintenance tonight"),
             lambda a: a["sender"] == {"user_id": None, "name": "Support"}
             and sorted(a["recipients"]) == ["alice", "bob"], "v1 shape"),
        Step("notification", lambda: client.notify(["alice"], "Ticket updated", per_user={"alice": "Hi Alice"})),
        Step("block carol for alice", lambda: client.block("alice", "carol")),
        Step("list alice's blocks", lambda: client.blocked_users("alice"), lambda b: b == ["carol"], "['carol']"),
        Step("unblock carol", lambda: client.unblock("alice", "carol")),
        Step("get identity", lambda: client.get_identity("alice"),
             lambda i: i.get("display_name") == "Alice Customer" and "id" not in i, "v1 fields only"),
    ]


def run_codemod(sample_copy: Path, bot_map: Path, workdir: Path) -> dict[str, Any]:
    """Run ``layer-migrate codemod --diff`` on the temp copy as a user would; return its report."""
    report = workdir / "codemod-report.json"
    cmd = [sys.executable, "-m", "layer_migrate.cli", "codemod", "--diff", "--target", UPSTREAM_VERSION,
           "--bot-map", str(bot_map), "--report", str(report), sample_copy.name]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=workdir)
    if proc.returncode not in (0, 1) or not report.exists():
        raise DemoFailure(f"codemod failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[:300]}")
    data = json.loads(report.read_text(encoding="utf-8"))
    data["_diff"] = proc.stdout
    return data


def _spec_numbers() -> dict[str, str]:
    """Rule id → spec number (``v2.sender.user_id`` → ``R21``), to keep the table narrow."""
    from .rulebook import load_rulebook

    return {rule.id: rule.spec for rule in load_rulebook()}


def _accept_rules() -> set[str]:
    """Rules that move the Accept version: applied to every call, so said once above the table."""
    from .facts import MediaTypeFact
    from .rulebook import load_rulebook
    from .versions import PLATFORM_MEDIA_TYPE

    return {rule.id for rule in load_rulebook()
            if any(isinstance(f, MediaTypeFact) and f.media_type == PLATFORM_MEDIA_TYPE for f in rule.facts)}


def _rules_cell(rules: list[str], specs: dict[str, str]) -> str:
    skip = _accept_rules()
    shown = sorted({specs.get(r, r) for r in rules if r not in skip},
                   key=lambda s: (len(s), s))  # R9 before R14
    return " ".join(shown) if shown else "-"


def _exchange_table(records: list[dict[str, Any]]) -> Table:
    specs = _spec_numbers()
    table = Table(title=f"v1 calls through the proxy (upstream speaks {UPSTREAM_VERSION})",
                  width=WIDTH, show_lines=False, title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False)
    table.add_column("v1 call", overflow="fold", min_width=32)
    table.add_column(f"as {UPSTREAM_VERSION}", overflow="fold", max_width=12)
    table.add_column("st", justify="right", no_wrap=True)
    table.add_column("rules", overflow="fold", ratio=1)
    for rec in records:
        v1 = f"{rec['method']} {short_path(rec['path'])}"
        up_method = rec.get("upstream_method") or rec["method"]
        up_path = rec.get("upstream_path") or rec["path"]
        became = "same" if (up_method, up_path) == (rec["method"], rec["path"]) else (
            up_method if up_path == rec["path"] or short_path(up_path) in v1 else f"{up_method} {short_path(up_path)}")
        table.add_row(v1, became, str(rec.get("status")), _rules_cell(rec.get("rules") or [], specs))
    return table


def run_demo(console: Console, keep: Path | None = None) -> None:
    from .emulator import Emulator
    from .proxy.config import ProxyConfig
    from .proxy.serving import running as proxy_running

    samples = sample_root()
    with tempfile.TemporaryDirectory(prefix="layer-migrate-demo-") as tmp:
        workdir = Path(tmp)
        app_copy = workdir / "legacy_app"
        shutil.copytree(samples / "legacy_app", app_copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        bot_map = app_copy / "bot-map.json"
        sys.path.insert(0, str(app_copy))
        try:
            from legacy_app.layer_client import LayerClient, LayerError  # type: ignore[import-not-found]
            from legacy_app.webhooks import make_app  # type: ignore[import-not-found]
        finally:
            sys.path.remove(str(app_copy))
        access_log = workdir / "proxy-access.jsonl"

        console.rule("[bold]1. Emulator (3.0) + proxy + v1 webhook receiver")
        with Emulator().running() as emu, serve_receiver(make_app) as receiver:
            config = ProxyConfig(upstream=emu.url, upstream_version=UPSTREAM_VERSION, port=0,
                                 bot_map=str(bot_map), access_log=str(access_log),
                                 webhook_target=receiver.url, webhook_secret=RECEIVER_SECRET,
                                 upstream_webhook_secret=UPSTREAM_WEBHOOK_SECRET)
            with proxy_running(config) as proxy:
                console.print(f"emulator  {emu.url}  (Layer Platform API 1.0-3.0)")
                console.print(f"proxy     {proxy.url}  (v1 clients → {UPSTREAM_VERSION})")
                console.print(f"receiver  {receiver.url}  (sample v1 webhook app)")
                register_upstream_webhook(emu, f"{proxy.url}{config.webhook_path}")
                console.print("3.0 webhook registered on the emulator → proxy relay → v1 receiver")

                console.rule("[bold]2. The sample v1 client, unchanged, through the proxy")
                client = LayerClient(api_url=proxy.url, app_id=emu.app_id, token=emu.token)
                steps = scenario(client)
                failures = []
                for step in steps:
                    try:
                        result = step.run()
                    except LayerError as exc:
                        failures.append(f"{step.label}: {exc}")
                        continue
                    if not step.check(result):
                        failures.append(f"{step.label}: expected {step.expect}, got {result!r}"[:300])
                proxy.app.flush_logs()  # records are written by a logging thread; read them now
                records = [r for r in read_jsonl(access_log) if r.get("kind") == "request"]
                console.print("Accept moved to version=3.0 on every call (R02/R03); "
                              "`layer-migrate rules R22` explains one.")
                console.print(_exchange_table(records))
                if failures:
                    raise DemoFailure("; ".join(failures))
                console.print(f"[green]✓[/] {len(steps)} v1 calls answered in v1 shapes by a 3.0 server")

                console.rule("[bold]3. A 3.0 webhook reaches the v1 receiver")
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and len(receiver.received) < 2:
                    time.sleep(0.05)
                if not receiver.received:
                    raise DemoFailure("no webhook reached the v1 receiver within 10 s")
                for event in receiver.received:
                    console.print(f"message.sent  from {event['from']!r}: {event['text']!r}")
                console.print("[green]✓[/] Message.created (3.0) → message.sent (1.0), re-signed;")
                console.print("  the receiver verified each signature with its own v1 secret")

        console.rule("[bold]4. The codemod on a copy of the sample (--diff)")
        report = run_codemod(app_copy, bot_map, workdir)
        console.print(_codemod_table(report, app_copy))
        diff_text = report["_diff"]
        console.print(f"{_diff_size(diff_text)} diff lines; nothing was written to the sample.")
        if keep is not None:
            kept = keep_artifacts(keep, diff_text, workdir)
            console.print(f"full diff kept: {kept}")
        else:
            console.print("see the full diff: layer-migrate demo --keep DIR")

    console.rule("[bold]Try next")
    for line in TRY_NEXT:
        console.print("  " + line, highlight=False)


#: Commands that work as written on a fresh install (the samples command writes the files the
#: later lines name); a test runs each of them.
TRY_NEXT = (
    "layer-migrate rules R22                 one rule, with its examples",
    "layer-migrate samples lm-samples        copy the sample app and payloads",
    "layer-migrate translate request --to 3.0 --bot-map lm-samples/bot-map.json \\",
    "    lm-samples/payloads/send-message-as-bot.json",
    "layer-migrate codemod --diff lm-samples/legacy_app",
    "layer-migrate emulator --port 8000      a local 1.0-3.0 Platform API",
)


def _diff_size(diff_text: str) -> int:
    """Changed lines of a unified diff (file headers not counted)."""
    return sum(1 for line in diff_text.splitlines()
               if line.startswith(("-", "+")) and not line.startswith(("---", "+++")))


def _diff_by_file(diff_text: str) -> dict[str, tuple[int, int]]:
    """File (as the diff names it) → (lines removed, lines added)."""
    counts: dict[str, list[int]] = {}
    current: list[int] | None = None
    for line in diff_text.splitlines():
        if line.startswith("+++ "):
            name = line[4:].split("\t")[0].strip()
            name = name[2:] if name.startswith(("a/", "b/")) else name
            current = counts.setdefault(name, [0, 0])
        elif line.startswith("--- "):
            continue
        elif current is not None and line.startswith("-"):
            current[0] += 1
        elif current is not None and line.startswith("+"):
            current[1] += 1
    return {name: (removed, added) for name, (removed, added) in counts.items()}


def keep_artifacts(keep: Path, diff_text: str, workdir: Path) -> Path:
    """Write the full codemod diff and the demo's logs into ``keep`` before the temp folder goes."""
    keep.mkdir(parents=True, exist_ok=True)
    diff_path = keep / "codemod.diff"
    diff_path.write_text(diff_text, encoding="utf-8")
    for name in ("codemod-report.json", "proxy-access.jsonl"):
        if (workdir / name).is_file():
            shutil.copyfile(workdir / name, keep / name)
    return diff_path


def _codemod_table(report: dict[str, Any], app_copy: Path) -> Table:
    """One row per file the codemod would change: the per-file summary a reviewer reads first."""
    table = Table(title="codemod: files it would change", width=WIDTH, title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("file", overflow="fold", ratio=5)
    table.add_column("-", justify="right")
    table.add_column("+", justify="right")
    table.add_column("markers", justify="right")
    markers: dict[str, int] = {}
    for marker in report.get("markers") or []:
        markers[_relative(str(marker.get("file", "")), app_copy)] = markers.get(
            _relative(str(marker.get("file", "")), app_copy), 0) + 1
    by_file = {_relative(name, app_copy): counts for name, counts in _diff_by_file(report["_diff"]).items()}
    for name in sorted(set(by_file) | set(markers)):
        removed, added = by_file.get(name, (0, 0))
        table.add_row(name, str(removed), str(added), str(markers.get(name, 0)))
    return table


def _relative(name: str, root: Path) -> str:
    """A path the codemod printed, relative to the folder that holds the sample copy."""
    path = Path(name)
    if not path.is_absolute():
        return name
    try:
        return str(path.resolve().relative_to(root.resolve().parent))
    except ValueError:
        return name


@click.command("demo")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the codemod's full diff, its report and the proxy access log in DIR.")
def demo(keep: Path | None) -> None:
    """Run the emulator, the proxy and the codemod on the bundled sample app.

    Starts a 3.0 emulator and the proxy on free 127.0.0.1 ports, drives the
    unchanged sample v1 client through the proxy (showing each v1 call, the
    3.0 call it became and the rules applied), relays a 3.0 webhook to the
    sample's v1 receiver, and runs the codemod in --diff mode on a temporary
    copy of the sample. Needs no network and writes only to a temp folder.
    Exits 0 only if every step worked.

    \b
    Examples:
      layer-migrate demo
      layer-migrate demo --keep demo-out     # keeps demo-out/codemod.diff
    """
    width = min(shutil.get_terminal_size((WIDTH, 24)).columns, WIDTH)
    console = Console(width=width, highlight=False, soft_wrap=False)
    started = time.monotonic()
    try:
        run_demo(console, keep)
    except KeyboardInterrupt:
        console.print("\ninterrupted; servers stopped, temp folder removed")
        sys.exit(130)
    except DemoFailure as exc:
        console.print(f"[red]demo failed:[/] {exc}")
        sys.exit(1)
    console.print(f"[green]demo finished in {time.monotonic() - started:.1f} s[/]")


if __name__ == "__main__":  # pragma: no cover
    demo()

