"""``layer-migrate codemod PATH...`` — rewrite Python code that calls the Layer Platform API.

Exit codes: 0 done (or nothing to do); 1 with ``--check`` while a file would change, a marker
remains (unless ``--allow-markers``) or a file that talks to the Platform API was skipped — and in
write mode too when such a file was skipped (the migration is incomplete); 2 on errors (bad
options, unreadable bot map, files that could not be read or written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..identity import BotDirectory
from .config import ConfigError, load_config
from .facts_table import OPT_IN_RULES, build_index
from .report import Summary
from .runner import InputError, Settings, discover, run

_PROGRESS_THRESHOLD = 200


def _fail(message: str) -> None:
    click.echo(f"layer-migrate codemod: {message}", err=True)
    sys.exit(2)


@click.command("codemod", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--diff", "diff_mode", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", "check_mode", is_flag=True,
              help="Write nothing; exit 1 if any file would change, any marker remains or a Layer "
                   "file was skipped (CI, pre-commit).")
@click.option("--target", type=click.Choice(["2.0", "3.0"]), default=None,
              help="Platform API version to migrate to (default 3.0).")
@click.option("--bot-map", type=click.Path(dir_okay=False, path_type=str), default=None,
              help='JSON {"bot display name": "bot user id"} for v1 sender.name (R22/R35).')
@click.option("--disable", multiple=True, metavar="RULE", help="Do not apply RULE (repeatable).")
@click.option("--only", multiple=True, metavar="RULE",
              help="Apply only RULE (repeatable; rule id or R-number), e.g. one change per pull request.")
@click.option("--enable", multiple=True, metavar="RULE",
              help=f"Apply an opt-in rule ({', '.join(sorted(OPT_IN_RULES))}).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files/folders (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Worker processes.")
@click.option("--identity-helper", type=click.Choice(["inline", "import"]), default=None,
              help="Emit identity ids inline with urllib.parse.quote, or via layer_migrate.identity.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Write every marker with file:line (.json or .md).")
@click.option("--allow-markers", is_flag=True,
              help="With --check: do not fail for '# layer-migrate:' markers left for you.")
@click.option("--force", is_flag=True, help="Rewrite read-only files too (skipped otherwise).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
def codemod(paths: tuple[str, ...], diff_mode: bool, check_mode: bool, target: str | None,
            bot_map: str | None, disable: tuple[str, ...], only: tuple[str, ...], enable: tuple[str, ...],
            exclude: tuple[str, ...], jobs: int | None, identity_helper: str | None,
            report_path: str | None, allow_markers: bool, force: bool, quiet: bool) -> None:
    """Rewrite Python integration code from Platform API 1.x to 2.0/3.0, in place.

    Every change is tagged with its rule id; what cannot be decided safely gets a
    "# layer-migrate: <rule> ..." comment. Defaults come from [tool.layer-migrate] in pyproject.toml.

    \b
    Examples:
      layer-migrate codemod --diff src/           # show changes, write nothing
      layer-migrate codemod --check src/ tests/   # CI: exit 1 while anything is left to do
      layer-migrate codemod --bot-map bots.json --report todo.md src/
    """
    if diff_mode and check_mode:
        _fail("--diff and --check cannot be combined")
    try:
        cfg, cfg_path = load_config(Path.cwd())
    except ConfigError as exc:
        _fail(str(exc))
    target = target or str(cfg.get("target", "3.0"))
    if target not in ("2.0", "3.0"):
        _fail(f"{cfg_path}:1: [tool.layer-migrate] target must be \"2.0\" or \"3.0\", not {target!r}")
    bot_map = bot_map or cfg.get("bot-map")
    helper = identity_helper or cfg.get("identity-helper", "inline")
    if helper not in ("inline", "import"):
        _fail(f"{cfg_path}:1: identity-helper must be 'inline' or 'import'")
    disabled = tuple(disable) + tuple(cfg.get("disable", ()))
    enabled = tuple(enable) + tuple(cfg.get("enable", ()))
    excludes = tuple(exclude) + tuple(cfg.get("exclude", ()))
    jobs = jobs or int(cfg.get("jobs", 1))

    known = set(build_index("3.0").rules) | set(OPT_IN_RULES)
    try:
        from ..rulebook import load_rulebook

        known |= {r.id for r in load_rulebook()}
    except Exception:  # the rulebook is optional for the codemod (fallback facts)
        pass
    by_spec: dict[str, str] = {}
    try:
        from ..rulebook import load_rulebook

        by_spec = {r.spec: r.id for r in load_rulebook() if r.spec}
    except Exception:  # pragma: no cover - the rulebook always loads in a working install
        pass
    only = tuple(by_spec.get(r.upper(), r) for r in only)
    for rule in disabled + enabled + only:
        if rule not in known:
            _fail(f"unknown rule {rule!r} (see `layer-migrate rules`)")
    if bot_map:
        try:
            BotDirectory.load(bot_map)
        except ValueError as exc:
            _fail(str(exc))

    try:
        files, notes = discover(paths, excludes)
    except InputError as exc:
        _fail(str(exc))
    mode = "diff" if diff_mode else "check" if check_mode else "write"
    settings = Settings(target=target, bot_map=bot_map, disabled=disabled, enabled=enabled,
                        identity_helper=helper, force=force, only=only)  # type: ignore[arg-type]
    summary = Summary(target=target)

    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    show_progress = not quiet and len(files) >= _PROGRESS_THRESHOLD and console.is_terminal
    results = run(files, settings, mode, jobs=jobs)
    if show_progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        with Progress(TextColumn("codemod"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("files", total=len(files))
            for r in results:
                summary.add(r)
                bar.advance(task)
                _emit(r, mode)
    else:
        for r in results:
            summary.add(r)
            _emit(r, mode)

    for note in notes:
        click.echo(f"note: {note}", err=True)
    for path, why in summary.skipped:
        click.echo(f"{path}:{summary.skipped_lines.get((path, why), 1)}: skipped: {why}", err=True)
    for err in summary.errors:
        click.echo(err, err=True)
    if not quiet:
        _print_summary(console, summary, mode)
    if report_path:
        try:
            summary.write(report_path)
        except OSError as exc:
            _fail(f"{report_path}: cannot write report: {exc.strerror or exc}")
    if quiet and summary.needs_you():
        for f, ln, t in summary.needs_you():
            click.echo(f"{f}:{ln}: {t}", err=True)
        click.echo(summary.closing_line(), err=True)
    if summary.errors:
        sys.exit(2)
    if check_mode and (summary.files_changed or summary.incomplete or (summary.markers and not allow_markers)):
        sys.exit(1)
    if summary.incomplete:
        sys.exit(1)


def _emit(r, mode: str) -> None:  # type: ignore[no-untyped-def]
    if mode == "diff" and r.diff:
        click.echo(r.diff, nl=False)
    elif mode == "check" and r.changed:
        click.echo(f"would rewrite {r.path}", err=True)


def _print_summary(console, summary: Summary, mode: str) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    verb = {"write": "rewrote", "diff": "would rewrite", "check": "would rewrite"}[mode]
    if summary.per_rule:
        table = Table(title=f"layer-migrate codemod → {summary.target}", title_justify="left")
        table.add_column("rule")
        table.add_column("files", justify="right")
        table.add_column("sites rewritten", justify="right")
        table.add_column("sites marked", justify="right")
        for rule, (f, w, m) in sorted(summary.per_rule.items()):
            table.add_row(rule, str(f), str(w), str(m))
        console.print(table)
    console.print(f"{summary.files_seen} files, {verb} {summary.files_changed}, "
                  f"{len(summary.markers)} markers, {len(summary.skipped)} skipped")
    todo = summary.needs_you()
    for path, line, text in todo[:20]:
        console.print(f"{path}:{line}: {text}", soft_wrap=True)
    if len(todo) > 20:
        console.print(f"... {len(todo) - 20} more (use --report FILE)")
    if summary.bots_used:
        console.print("bot identities to create before deploying: " + ", ".join(
            f"{uid} ({name})" for name, uid in sorted(summary.bots_used.items())))
    console.print(summary.closing_line(), soft_wrap=True)
