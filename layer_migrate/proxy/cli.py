"""``layer-migrate proxy`` — run the migration proxy; ``layer-migrate proxy report`` — summarise.

Bad input (unknown version, unreadable bot map, config or --upstream-ca bundle, incomplete
webhook options) is a
one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .config import ConfigError, ProxyConfig

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
\b
  # check what a config file + environment amount to, then run it
  LAYER_MIGRATE_PROXY_WORKERS=4 layer-migrate proxy --config proxy.toml --print-config
\b
Own endpoints: /-/health (liveness), /-/ready (upstream reachable), /-/metrics (Prometheus),
/-/webhooks (relay).
"""


def _fail(message: str) -> None:
    click.echo(f"layer-migrate proxy: {message}", err=True)
    sys.exit(2)


@click.group("proxy", invoke_without_command=True, epilog=EXAMPLES,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              envvar="LAYER_MIGRATE_PROXY_CONFIG_FILE", show_envvar=True,
              help="TOML file with a [proxy] table; keys are these options' long names. "
                   "Precedence: command line > LAYER_MIGRATE_PROXY_<NAME> environment > TOML.")
@click.option("--print-config", is_flag=True, default=False,
              help="Print the effective settings as TOML (secrets masked) and exit.")
@click.option("--upstream", help="Base URL of the 2.0/3.0 API (the only host ever contacted).")
@click.option("--upstream-ca", type=click.Path(dir_okay=False),
              help="PEM bundle of CA certificates to trust for an https:// upstream (a private CA, "
                   "e.g. a corporate TLS proxy); replaces the system store. Verification stays on.")
@click.option("--upstream-version", type=click.Choice(["2.0", "3.0"]), default=None,
              help="Version spoken upstream [default: 3.0].")
@click.option("--as-of", default=None, metavar="YYYY-MM-DD",
              help="Behave as the service did on this date (dated change-log items) [latest].")
@click.option("--host", default=None, help="Listen address [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Listen port [default: 8080].")
@click.option("--uds", default=None, metavar="PATH", help="Listen on this Unix socket instead.")
@click.option("--fd", type=int, default=None, help="Listen on this inherited socket descriptor.")
@click.option("--backlog", type=int, default=None, help="Listen queue length [2048].")
@click.option("--proxy-headers/--no-proxy-headers", default=None,
              help="Take the client address from X-Forwarded-For of --forwarded-allow-ips [off].")
@click.option("--forwarded-allow-ips", default=None,
              help="Comma-separated balancer addresses trusted for proxy headers [127.0.0.1].")
@click.option("--graceful-timeout", type=float, default=None,
              help="Seconds in-flight requests get to finish on SIGTERM [30].")
@click.option("--bot-map", type=click.Path(dir_okay=False),
              help='JSON {"v1 sender.name": "bot user id"}; unlisted names get bot-<slug> ids.')
@click.option("--rules-dir", "--rules", "rules_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of extra rule modules loaded on top of the built-in rulebook.")
@click.option("--workers", type=int, default=None, help="Worker processes [default: 1].")
@click.option("--report-only", is_flag=True, default=None,
              help="Forward unchanged (v1-capable upstream) and record the rules each request needs.")
@click.option("--report-log", type=click.Path(dir_okay=False),
              help="JSON-lines file for the per-request rule report.")
@click.option("--verify-reads", is_flag=True, default=None,
              help="Also send sampled v1 GETs natively upstream and count differences (pre-cut-over).")
@click.option("--verify-sample", type=float, default=None,
              help="Fraction of v1 GETs verified with --verify-reads [0.1].")
@click.option("--access-log", default=None,
              help="Access records: '-' = the process log (default), a file path, or 'off'.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error", "critical"]),
              default=None, help="Process log level [info].")
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None,
              help="One JSON object per line, or text for a terminal [json].")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Write the process log here (reopened on SIGHUP and after rotation) [stderr].")
@click.option("--max-body", type=int, default=None, help="Largest request body in bytes [10 MiB].")
@click.option("--upstream-timeout", "--timeout", "upstream_timeout", type=float, default=None,
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
@click.option("--add-dedupe/--no-dedupe", default=None,
              help="Add If-None-Match to creates so they may be retried [on].")
@click.option("--webhook-target", help="URL of the legacy 1.0 webhook receiver.")
@click.option("--webhook-secret", envvar="LAYER_MIGRATE_WEBHOOK_SECRET", show_envvar=True,
              help="Secret the 1.0 receiver verifies (re-signing key).")
@click.option("--upstream-webhook-secret", envvar="LAYER_MIGRATE_UPSTREAM_WEBHOOK_SECRET",
              show_envvar=True, help="Secret of the upstream 2.0/3.0 webhook.")
@click.pass_context
def proxy(ctx: click.Context, config_file: str | None, print_config: bool, **opts: Any) -> None:
    """Run the migration proxy: legacy v1 clients in, Layer Platform API 2.0/3.0 upstream."""
    if ctx.invoked_subcommand is not None:
        return
    from .settings import effective, load

    try:
        cfg = load(opts, toml_file=config_file, require_upstream=True)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
        return
    if cfg.bot_map:
        from ..identity import BotDirectory

        try:
            BotDirectory.load(cfg.bot_map)
        except ValueError as exc:
            _fail(str(exc))
    if print_config:
        click.echo(_toml(effective(cfg)))
        return
    serve(cfg)


def _toml(values: dict[str, Any]) -> str:
    """The effective settings as a ``[proxy]`` TOML table (None = unset, shown commented)."""
    lines = ["[proxy]"]
    tables: list[str] = []
    for k, v in values.items():
        if isinstance(v, dict):
            tables.append(f"\n[proxy.{k}]")
            tables.extend(f"{ik} = {json.dumps(iv)}" for ik, iv in v.items())
        elif v is None:
            lines.append(f"# {k} = (unset)")
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines + tables)


def serve(cfg: ProxyConfig) -> None:
    """Run uvicorn (httptools + uvloop when installed) until SIGINT/SIGTERM (exit 0)."""
    from .deploy import run

    run(cfg)


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
        if summary["skipped"]["lines"]:
            click.echo(f"layer-migrate proxy report: skipped {summary['skipped']['lines']} unreadable "
                       f"line(s): {'; '.join(summary['skipped']['first'])}", err=True)
    else:
        render_summary(summary, sys.stdout)
