"""``layer-migrate translate | validate | rules`` — the engine's stable JSON command line.

Other tools and scripts call these commands, so the shapes are fixed: ``translate request`` reads
one exchange ``{"method", "path", "headers", "body"}`` and writes ``{"request", "prerequisites",
"applied", "lossy"}``; ``translate response`` reads ``{"request", "response"}`` and writes
``{"response", "applied", "lossy"}``. Exit codes: 0 done, 1 the translation was refused (the Layer
error object ``{id, code, message, url, data}`` is printed on stdout, the HTTP status on stderr) or
a body is invalid, 2 bad usage or input (one line on stderr,
``file:line: reason``). Never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from .errors import LayerError
from .exchange import Request, Response
from .identity import BotDirectory

VERSION_CHOICES = ("1.0", "1.1", "2.0", "3.0")


def _fail(message: str) -> NoReturn:
    click.echo(f"layer-migrate: {message}", err=True)
    sys.exit(2)


def _choice(value: str | None, param: Any, choices: tuple[str, ...]) -> str | None:
    """Validate an option ourselves: a usage error is one line, not click's usage block."""
    if value is not None and value not in choices:
        _fail(f"--{param.name.replace('_', '-')}: {value!r} is not one of {', '.join(choices)}")
    return value


def _version(value: str | None, param: Any, choices: tuple[str, ...] = VERSION_CHOICES) -> str | None:
    if value is not None and len(value) == 1 and value.isdigit():
        value += ".0"
    opt = {"source": "from"}.get(param.name, param.name)
    if value is not None and value not in choices:
        _fail(f"--{opt}: unknown version {value!r}; expected one of {', '.join(choices)}")
    return value


def _read_json(source: str | None) -> tuple[Any, str]:
    """JSON from a file argument or stdin; errors name ``file:line``."""
    name = source or "<stdin>"
    try:
        text = sys.stdin.read() if source in (None, "-") else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{name}: cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"{name}:1: not UTF-8 text")
    try:
        return json.loads(text), name
    except json.JSONDecodeError as exc:
        _fail(f"{name}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})")


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _refused(exc: LayerError) -> NoReturn:
    """A refusal: the Layer error object on stdout (what the client would get), status on stderr."""
    _emit(exc.to_json())
    click.echo(f"layer-migrate: refused with HTTP {exc.status} {exc.id}: {exc.message}", err=True)
    if exc.id == "invalid_header" and (exc.data or {}).get("header", "").lower() == "accept":
        # The error body is the documented one (spec §1.2); say here what would have worked.
        from .versions import VERSIONS

        click.echo(f"layer-migrate: supported versions: {', '.join(VERSIONS)} "
                   "(Accept: application/vnd.layer+json; version=X.Y)", err=True)
    sys.exit(1)


def _parse_option(items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            _fail(f"--option {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def _options(bot_map: str | None, option: tuple[str, ...]) -> Any:
    from .engine import Options

    kw = _parse_option(option)
    if bot_map:
        try:
            kw["bots"] = BotDirectory.load(bot_map)
        except ValueError as exc:
            _fail(str(exc))
    try:
        return Options(**kw)
    except TypeError as exc:
        _fail(f"--option: {exc}".replace("__init__() ", ""))
    except ValueError as exc:
        _fail(f"--option: {exc}")


def _engine(rules_dirs: tuple[str, ...]) -> Any:
    from .engine import Engine, default_engine
    from .rulebook import RulebookError, load_rulebook

    if not rules_dirs:
        return default_engine()
    try:
        return Engine(load_rulebook(rules_dirs))
    except RulebookError as exc:
        _fail(str(exc))


def _exchange_request(data: Any, name: str, key: str = "request") -> Request:
    if not isinstance(data, dict):
        _fail(f"{name}:1: expected a JSON object {{\"method\", \"path\", \"headers\", \"body\"}}")
    for k in ("method", "path"):
        if not isinstance(data.get(k), str) or not data.get(k):
            _fail(f"{name}:1: {key} is missing '{k}' (a string)")
    if data.get("headers") is not None and not isinstance(data["headers"], dict):
        _fail(f"{name}:1: {key}.headers must be an object")
    return Request.from_json(data)


_common = [
    click.option("--bot-map", type=click.Path(dir_okay=False), help="JSON file {\"bot display name\": \"bot user id\"} (R22/R35)."),
    click.option("--option", "option", multiple=True, metavar="NAME=VALUE",
                 help="Set an engine Option, e.g. --option drop_nulls=true (repeatable)."),
    click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
                 help="Extra folder of rule modules (repeatable)."),
]


def common(fn: Any) -> Any:
    for deco in reversed(_common):
        fn = deco(fn)
    return fn


@click.group("translate", context_settings={"help_option_names": ["-h", "--help"]})
def translate() -> None:
    """Translate one request, response, stored payload or webhook delivery between versions.

    \b
    Example:
      echo '{"method":"POST","path":"/apps/A/users/u1/blocks","headers":{},"body":{"user_id":"x"}}' \\
        | layer-migrate translate request --to 3.0
    """


@translate.command("request")
@click.argument("file", required=False)
@click.option("--to", "to", required=True, callback=lambda c, p, v: _version(v, p), help="Server version.")
@click.option("--from", "source", callback=lambda c, p, v: _version(v, p),
              help="Client version (default: from the Accept header; none = 1.0).")
@common
def translate_request_cmd(file: str | None, to: str, source: str | None, bot_map: str | None,
                          option: tuple[str, ...], rules_dirs: tuple[str, ...]) -> None:
    """Upgrade a v1 request for a newer server (reads FILE or stdin).

    \b
    Input:  {"method", "path", "headers": {...}, "body": <json or null>}
    Output: {"request": {...}, "prerequisites": [...], "applied": [...], "lossy": [...]}
    \b
    Example:
      layer-migrate translate request --to 3.0 --bot-map bots.json send.json
    """
    data, name = _read_json(file)
    req = _exchange_request(data, name)
    opts, engine = _options(bot_map, option), _engine(rules_dirs)
    try:
        t = engine.translate_request(req, to, source, opts)
    except LayerError as exc:
        _refused(exc)
    _emit(t.to_json())


@translate.command("response")
@click.argument("file", required=False)
@click.option("--to", "to", callback=lambda c, p, v: _version(v, p),
              help="Client version (default: from the original request's Accept header).")
@click.option("--from", "source", required=True, callback=lambda c, p, v: _version(v, p), help="Server version.")
@common
def translate_response_cmd(file: str | None, to: str | None, source: str, bot_map: str | None,
                           option: tuple[str, ...], rules_dirs: tuple[str, ...]) -> None:
    """Downgrade a newer server's response (or error) for the v1 client.

    \b
    Input:  {"request": {...original v1 request...}, "response": {"status", "headers", "body"}}
    Output: {"response": {...}, "applied": [...], "lossy": [...]}
    \b
    Example:
      layer-migrate translate response --to 1.0 --from 3.0 exchange.json
    """
    data, name = _read_json(file)
    if not isinstance(data, dict) or not isinstance(data.get("request"), dict) or not isinstance(data.get("response"), dict):
        _fail(f"{name}:1: expected {{\"request\": {{...}}, \"response\": {{\"status\", \"headers\", \"body\"}}}}")
    req = _exchange_request(data["request"], name)
    status = data["response"].get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        _fail(f"{name}:1: response.status must be an HTTP status code")
    resp = Response.from_json(data["response"])
    opts, engine = _options(bot_map, option), _engine(rules_dirs)
    try:
        r = engine.translate_response(req, resp, source, to, opts)
    except LayerError as exc:
        _refused(exc)
    _emit(r.to_json())


@translate.command("payload")
@click.argument("file", required=False)
@click.option("--kind", required=True,
              callback=lambda c, p, v: _choice(v, p, ("message", "conversation", "announcement", "identity",
                                                      "block", "user", "webhook", "webhook_delivery")),
              help="message, conversation, announcement, identity, block, user, webhook (a registration) "
                   "or webhook_delivery (a JSON array of objects is fine too).")
@click.option("--from", "source", required=True, callback=lambda c, p, v: _version(v, p))
@click.option("--to", "to", required=True, callback=lambda c, p, v: _version(v, p))
@click.option("--perspective", default="system", show_default=True,
              callback=lambda c, p, v: _choice(v, p, ("system", "user")),
              help="User-perspective objects keep received_at/is_unread (R29).")
@common
def translate_payload_cmd(file: str | None, kind: str, source: str, to: str, perspective: str,
                          bot_map: str | None, option: tuple[str, ...], rules_dirs: tuple[str, ...]) -> None:
    """Translate a stored object between two versions.

    \b
    Output: {"payload": ..., "applied": [...], "lossy": [...], "prerequisites": [...]}
    \b
    Example:
      layer-migrate translate payload --kind message --from 3.0 --to 1.0 message.json
    """
    data, _ = _read_json(file)
    opts, engine = _options(bot_map, option), _engine(rules_dirs)
    try:
        p = engine.translate_payload(kind, data, source, to, opts, perspective=perspective)
    except LayerError as exc:
        _refused(exc)
    _emit(p.to_json())


@translate.command("webhook")
@click.argument("file", required=False)
@click.option("--event", "event_type", required=True, help="The layer-webhook-event-type, e.g. Message.created.")
@click.option("--from", "source", default="3.0", show_default=True, callback=lambda c, p, v: _version(v, p, ("1.0", "2.0", "3.0")))
@click.option("--to", "to", default="1.0", show_default=True, callback=lambda c, p, v: _version(v, p, ("1.0", "2.0", "3.0")))
@common
def translate_webhook_cmd(file: str | None, event_type: str, source: str, to: str, bot_map: str | None,
                          option: tuple[str, ...], rules_dirs: tuple[str, ...]) -> None:
    """Translate one webhook delivery body for an older consumer (R50–R52).

    \b
    Output: {"events": [{"type", "body"}...], "applied", "lossy", "reason"}
    \b
    Example:
      layer-migrate translate webhook --event Message.created delivery.json
    """
    data, _ = _read_json(file)
    opts, engine = _options(bot_map, option), _engine(rules_dirs)
    try:
        w = engine.translate_webhook(event_type, data, source, to, opts)
    except LayerError as exc:
        _refused(exc)
    _emit(w.to_json())


@click.command("validate", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("file", required=False)
@click.option("--version", "version", required=True, callback=lambda c, p, v: _version(v, p))
@click.option("--kind", required=True, help="Schema kind, e.g. message, message_request, conversation.")
def validate(file: str | None, version: str, kind: str) -> None:
    """Validate a JSON body against a version's schema (exit 1 and one line per error if invalid).

    \b
    Example:
      layer-migrate validate --version 2.0 --kind message_request body.json
    """
    from .schemas import UnknownSchema, kinds
    from .schemas import validate as run

    data, name = _read_json(file)
    try:
        errors = run(version, kind, data)
    except UnknownSchema:
        _fail(f"unknown schema kind {kind!r} for {version}; known: {', '.join(kinds(version))}")
    if errors:
        for e in errors:
            click.echo(f"{name}: {e}")
        sys.exit(1)
    click.echo(f"{name}: valid {kind} ({version})")


@click.command("rules", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("rule", required=False)
@click.option("--markdown", is_flag=True, help="Print the migration guide (docs/rules.md).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Extra folder of rule modules (repeatable).")
def rules(rule: str | None, markdown: bool, as_json: bool, rules_dirs: tuple[str, ...]) -> None:
    """List every rule, or show one RULE (an R-number or a rule id) with its examples.

    \b
    Examples:
      layer-migrate rules                  # every rule, one entry each
      layer-migrate rules R22              # one rule: what changed, why, examples
      layer-migrate rules v2.sender.name_to_bot
      layer-migrate rules --markdown > docs/rules.md
    """
    import shutil

    from .rule_view import find, render_list, render_one, suggestions
    from .rulebook import RulebookError, load_rulebook, render_json, render_markdown

    try:
        book = load_rulebook(rules_dirs)
    except RulebookError as exc:
        _fail(str(exc))
    records = render_json(book)
    if rule is not None:
        found = find(records, rule)
        if not found:
            close = suggestions(records, rule)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            _fail(f"no rule {rule!r}{hint} (`layer-migrate rules` lists them all)")
        if as_json:
            _emit(found)
        else:
            width = min(shutil.get_terminal_size((80, 24)).columns, 100)
            click.echo("\n".join(render_one(r, width) for r in found), nl=False)
    elif markdown:
        click.echo(render_markdown(book), nl=False)
    elif as_json:
        _emit(records)
    else:
        width = min(shutil.get_terminal_size((80, 24)).columns, 100)
        click.echo(render_list(records, width), nl=False)
