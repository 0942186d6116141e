"""``layer-migrate proxy`` — run the migration proxy; ``layer-migrate proxy report`` — summarise.

Bad input (unknown version, unreadable bot map, config or --upstream-ca bundle, incomplete
webhook options) is a
one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from .config import ENV_VAR, ConfigError, ProxyConfig

EXAMPLES = """
\b
Examples:
  # legacy v1 clients → proxy on :8080 → Layer API 3.0
  layer-migrate proxy --upstream https://api.layer.com
\b
  # 2.0 upstream, 4 workers, bot names from a file
  layer-migrate proxy --upstream http://127.0.0.1:8000 --upstream-version 2.0 \\
      --workers 4 --bot-map bots.json
\b
  # https upstream signed by a private CA (corporate TLS proxy, local TLS emulator)
  layer-migrate proxy --upstream https://layer.internal:8443 --upstream-ca corp-ca.pem
\b
  # relay 3.0 webhooks to a 1.0 receiver (register http://<proxy>/-/webhooks upstream)
  layer-migrate proxy --upstream https://api.layer.com \\
      --webhook-target http://legacy:9000/hook --webhook-secret S1 --upstream-webhook-secret S2
\b
  # find legacy callers first: forward unchanged to a v1-capable upstream, record rules
  layer-migrate proxy --upstream http://old-api --report-only --report-log calls.jsonl
  layer-migrate proxy report calls.jsonl
\b
Own endpoints: /-/health, /-/metrics (Prometheus), /-/webhooks (relay).
"""


def _fail(message: str) -> None:
    click.echo(f"layer-migrate proxy: {message}", err=True)
    sys.exit(2)


@click.group("proxy", invoke_without_command=True, epilog=EXAMPLES,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML file with a [proxy] table (command-line options win).")
@click.option("--upstream", help="Base URL of the 2.0/3.0 API (the only host ever contacted).")
@click.option("--upstream-ca", type=click.Path(dir_okay=False),
              help="PEM bundle of CA certificates to trust for an https:// upstream (a private CA, "
                   "e.g. a corporate TLS proxy); replaces the system store. Verification stays on.")
@click.option("--upstream-version", type=click.Choice(["2.0", "3.0"]), default=None,
              help="Version spoken upstream [default: 3.0].")
@click.option("--host", default=None, help="Listen address [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Listen port [default: 8080].")
@click.option("--bot-map", type=click.Path(dir_okay=False),
              help='JSON {"v1 sender.name": "bot user id"}; unlisted names get bot-<slug> ids.')
@click.option("--workers", type=int, default=None, help="Worker processes [default: 1].")
@click.option("--report-only", is_flag=True, default=None,
              help="Forward unchanged (v1-capable upstream) and record the rules each request needs.")
@click.option("--report-log", type=click.Path(dir_okay=False),
              help="JSON-lines file for the per-request rule report.")
@click.option("--access-log", default=None,
              help="Access log: '-' = stderr (default), a file path, or 'off'.")
@click.option("--max-body", type=int, default=None, help="Largest request body in bytes [10 MiB].")
@click.option("--timeout", "upstream_timeout", type=float, default=None,
              help="Seconds per upstream exchange before 504 [30].")
@click.option("--connect-timeout", type=float, default=None, help="Seconds to connect upstream [5].")
@click.option("--retries", type=int, default=None,
              help="Extra attempts for requests safe to repeat (idempotent or de-duplicated) [2].")
@click.option("--pool-wait", type=float, default=None,
              help="Seconds a request waits for a free upstream connection before 503 [5].")
@click.option("--stream-idle-timeout", type=float, default=None,
              help="Seconds a streamed (large non-JSON) answer may stall before it is cut [30].")
@click.option("--stream-total-timeout", type=float, default=None,
              help="Seconds a streamed answer may take in total [300].")
@click.option("--max-upstream-body", type=int, default=None,
              help="Largest buffered upstream body in bytes, also after decoding → 502 [64 MiB].")
@click.option("--max-decompress-ratio", type=int, default=None,
              help="Largest decoded/compressed ratio of a buffered upstream body → 502 [100].")
@click.option("--max-header-bytes", type=int, default=None,
              help="Largest request header block in bytes → 431 [32 KiB].")
@click.option("--max-request-line", type=int, default=None,
              help="Longest request line in bytes → 431 [8 KiB].")
@click.option("--header-timeout", type=float, default=None,
              help="Seconds from connect (or message start) to complete request headers [10].")
@click.option("--body-timeout", type=float, default=None,
              help="Seconds to receive a request body once its headers are in → 408 [30].")
@click.option("--upstream-client", type=click.Choice(["fast", "aiohttp"]), default=None,
              help="Hot-path upstream client (fast: pooled httptools client for http:// upstreams) [fast].")
@click.option("--no-dedupe", is_flag=True, default=False,
              help="Do not add If-None-Match to creates (they then are never retried once sent).")
@click.option("--webhook-target", help="URL of the legacy 1.0 webhook receiver.")
@click.option("--webhook-secret", envvar="LAYER_MIGRATE_WEBHOOK_SECRET", show_envvar=True,
              help="Secret the 1.0 receiver verifies (re-signing key).")
@click.option("--upstream-webhook-secret", envvar="LAYER_MIGRATE_UPSTREAM_WEBHOOK_SECRET",
              show_envvar=True, help="Secret of the upstream 2.0/3.0 webhook.")
@click.pass_context
def proxy(ctx: click.Context, config_file: str | None, **opts: Any) -> None:
    """Run the migration proxy: legacy v1 clients in, Layer Platform API 2.0/3.0 upstream."""
    if ctx.invoked_subcommand is not None:
        return
    no_dedupe = opts.pop("no_dedupe")
    if opts.get("access_log") == "off":
        opts["access_log"] = ""
    if no_dedupe:
        opts["add_dedupe"] = False
    values = {k: v for k, v in opts.items() if v is not None}
    if opts.get("access_log") == "":
        values["access_log"] = None
    try:
        if config_file:
            cfg = ProxyConfig.from_toml(config_file, **values)
        else:
            if not values.get("upstream"):
                _fail("--upstream URL is required (or --config FILE)")
            cfg = ProxyConfig(**values)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
        return
    if cfg.bot_map:
        from ..identity import BotDirectory

        try:
            BotDirectory.load(cfg.bot_map)
        except ValueError as exc:
            _fail(str(exc))
    serve(cfg)


def serve(cfg: ProxyConfig) -> None:
    """Run uvicorn (httptools + uvloop when installed) until SIGINT/SIGTERM."""
    import uvicorn

    kwargs: dict[str, Any] = dict(
        host=cfg.host, port=cfg.port, lifespan="on", log_level="warning", access_log=False,
        timeout_graceful_shutdown=int(cfg.graceful_timeout), server_header=False,
        date_header=True, backlog=2048,
    )
    try:
        import httptools  # noqa: F401

        from .serving import server_kwargs

        kwargs.update(server_kwargs())  # httptools + header limits and slowloris deadlines
    except ImportError:
        kwargs["http"] = "h11"
    try:
        import uvloop  # noqa: F401

        kwargs["loop"] = "uvloop"
    except ImportError:
        kwargs["loop"] = "asyncio"
    click.echo(f"layer-migrate proxy: http://{cfg.host}:{cfg.port} → {cfg.upstream} "
               f"(version {cfg.upstream_version}{', report-only' if cfg.report_only else ''}, "
               f"{cfg.workers} worker{'s' if cfg.workers > 1 else ''})", err=True)
    if cfg.workers > 1:
        os.environ[ENV_VAR] = cfg.to_env()
        uvicorn.run("layer_migrate.proxy.app:create_app", factory=True, workers=cfg.workers, **kwargs)
    else:
        from .app import ProxyApp

        uvicorn.run(ProxyApp(cfg), **kwargs)


@proxy.command("report")
@click.argument("logs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def report(logs: tuple[str, ...], as_json: bool) -> None:
    """Summarise report-only (or access) logs: which rules legacy callers need, and who they are.

    \b
    Example:
      layer-migrate proxy --upstream http://old-api --report-only --report-log calls.jsonl
      layer-migrate proxy report calls.jsonl            # table
      layer-migrate proxy report --json calls.jsonl     # for scripts
    """
    from .report import render_summary, summarise

    try:
        summary = summarise(list(logs))
    except ValueError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        render_summary(summary, sys.stdout)
