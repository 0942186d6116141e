"""Run the rewrite over files: discovery, parallel workers, safe writes, per-rule statistics.

Safety rules (issue 5): only regular ``*.py`` files under the given paths are touched (symlinks are
never followed or written, ``--exclude`` globs are honoured), each file's output is re-parsed before
it is written (see :func:`.api.rewrite_source`), writes are atomic (temp file in the same folder +
``os.replace``, permissions kept), and a file that does not parse is skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import gc
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from ..identity import BotDirectory
from .api import Options, Outcome, rewrite_source
from .facts_table import build_index
from .identity_expr import HelperMode
from .wrap import line_length_for

DEFAULT_EXCLUDES = (".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "node_modules",
                    "__pycache__", "build", "dist", ".eggs", "*.egg-info")


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs (picklable: workers rebuild the fact index once each)."""

    target: str = "3.0"
    bot_map: str | None = None
    disabled: tuple[str, ...] = ()
    enabled: tuple[str, ...] = ()
    identity_helper: HelperMode = "inline"
    #: rewrite read-only files too (otherwise skipped with a note)
    force: bool = False
    #: apply only these rules (``--only``)
    only: tuple[str, ...] = ()


@dataclass
class FileResult:
    path: str
    changed: bool = False
    skipped: str | None = None
    skipped_line: int = 1
    #: skipped although it talks to the Platform API: the migration is incomplete
    layer_skipped: bool = False
    error: str | None = None
    diff: str = ""
    events: list[tuple[str, str]] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)
    bots_used: dict[str, str] = field(default_factory=dict)
    filtered: bool = False


class InputError(Exception):
    """Bad command-line input (one line, ``file:line: reason`` when there is a file)."""


def discover(paths: Iterable[str], excludes: Iterable[str] = ()) -> tuple[list[Path], list[str]]:
    """Python files under ``paths`` (sorted, no symlinks, ``.gitignore`` honoured — the file in
    each walked folder and those above the given folder up to the repository's top), and notes
    about what was left out. Files named explicitly are always taken."""
    patterns = tuple(DEFAULT_EXCLUDES) + tuple(excludes)
    files: list[Path] = []
    notes: list[str] = []
    seen: set[Path] = set()

    def excluded(p: Path, root: Path) -> bool:
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = p.as_posix()
        for pat in patterns:
            if fnmatch.fnmatch(p.name, pat) or fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(p.as_posix(), pat):
                return True
        return False

    for raw in paths:
        root = Path(raw)
        ignores = _ancestor_gitignores(root) if root.is_dir() else []
        if root.is_symlink():
            notes.append(f"{raw}: symlink, not followed")
            continue
        if not root.exists():
            raise InputError(f"{raw}: no such file or directory")
        if root.is_file():
            if root.suffix == ".py" and not excluded(root, root.parent) and root.resolve() not in seen:
                seen.add(root.resolve())
                files.append(root)
            continue
        specs: dict[Path, list[tuple[Path, pathspec.PathSpec]]] = {}
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            d = Path(dirpath)
            here = specs.get(d, ignores) + _gitignore_at(d)
            keep = []
            for name in sorted(dirnames):
                sub = d / name
                if sub.is_symlink():
                    notes.append(f"{sub}: symlink, not followed")
                elif not excluded(sub, root) and not _ignored(sub, True, here):
                    keep.append(name)
                    specs[sub] = here
            dirnames[:] = keep
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                f = d / name
                if f.is_symlink():
                    notes.append(f"{f}: symlink, not touched")
                    continue
                if excluded(f, root) or f.resolve() in seen or _ignored(f, False, here):
                    continue
                seen.add(f.resolve())
                files.append(f)
    return files, notes


def _gitignore_at(d: Path) -> list[tuple[Path, pathspec.PathSpec]]:
    f = d / ".gitignore"
    if not f.is_file():
        return []
    try:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [(d, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ancestor_gitignores(root: Path) -> list[tuple[Path, pathspec.PathSpec]]:
    """``.gitignore`` files above ``root`` up to its repository's top (the folder with ``.git``)."""
    out: list[tuple[Path, pathspec.PathSpec]] = []
    here = root.resolve()
    for d in here.parents:
        out = _gitignore_at(d) + out
        if (d / ".git").exists():
            break
    else:
        return []  # not inside a repository: ignore files above the given folder do not apply
    return out


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, pathspec.PathSpec]]) -> bool:
    """Does a ``.gitignore`` (``specs``: folder → its patterns) exclude ``path``? A virtualenv
    named ``env/`` listed there is not walked (issue 16)."""
    full = path.resolve() if specs else path
    for base, spec in specs:
        try:
            rel = full.relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
        if spec.match_file(rel + ("/" if is_dir else "")):
            return True
    return False


_WORKER_OPTIONS: Options | None = None
_WORKER_KEY: Settings | None = None


def _options(settings: Settings) -> Options:
    global _WORKER_OPTIONS, _WORKER_KEY
    if _WORKER_OPTIONS is None or _WORKER_KEY != settings:
        bots = BotDirectory.load(settings.bot_map) if settings.bot_map else None
        index = build_index(settings.target, settings.disabled, settings.enabled, only=settings.only)
        _WORKER_OPTIONS = Options(index=index, bots=bots, identity_helper=settings.identity_helper)
        _WORKER_KEY = settings
    return _WORKER_OPTIONS


def process_file(path: str, settings: Settings, mode: str) -> FileResult:
    """Rewrite one file. ``mode``: ``"write"``, ``"diff"`` or ``"check"``. Never raises."""
    res = FileResult(path=path)
    try:
        p = Path(path)
        if p.is_symlink():
            res.skipped = "symlink, not touched"
            return res
        before = p.stat()
        data = p.read_bytes()
    except OSError as exc:
        res.error = f"{path}: cannot read: {exc.strerror or exc}"
        return res
    try:
        options = dataclasses.replace(_options(settings), line_length=line_length_for(p.parent.resolve()))
        out: Outcome = rewrite_source(data, options)
    except RecursionError:
        res.skipped = "too deeply nested for the parser"
        res.layer_skipped = True
        return res
    except Exception as exc:  # a bug of ours must not stop a 10,000-file run
        res.error = f"{path}:1: internal error ({type(exc).__name__}: {exc}); file left unchanged — please report"
        return res
    res.filtered = out.filtered
    if out.skipped and out.skipped.startswith("internal error"):
        res.error = f"{path}:1: {out.skipped}"  # our bug: fail the run (exit 2), keep the file
        return res
    res.skipped = out.skipped
    res.skipped_line = out.skipped_line
    res.layer_skipped = out.layer_skipped
    res.events = [(e.rule, e.kind) for e in out.events]
    res.markers = out.markers
    res.bots_used = out.bots_used
    res.changed = out.changed
    if not out.changed:
        return res
    if mode == "diff":
        res.diff = unified_diff(path, data, out.code)
    elif mode == "write":
        if not settings.force and not (before.st_mode & 0o222 and os.access(p, os.W_OK)):
            res.skipped = "read-only file: not rewritten (--force to rewrite it anyway)"
            res.layer_skipped = True
            res.changed = False
            return res
        try:
            if not atomic_write(p, out.code, expect=(before, data)):
                res.skipped = "changed by someone else during the run: not written (run again)"
                res.layer_skipped = True
                res.changed = False
        except OSError as exc:
            res.error = f"{path}: cannot write: {exc.strerror or exc}"
    return res


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    a = before.decode("utf-8", errors="replace").splitlines(keepends=True)
    b = after.decode("utf-8", errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, fromfile=f"a/{path.lstrip('/')}", tofile=f"b/{path.lstrip('/')}"))


def _unchanged(path: Path, before: os.stat_result, content: bytes) -> bool:
    st = path.stat()
    if (st.st_mtime_ns, st.st_size, st.st_ino) != (before.st_mtime_ns, before.st_size, before.st_ino):
        return False
    return hashlib.blake2b(path.read_bytes()).digest() == hashlib.blake2b(content).digest()


def atomic_write(path: Path, data: bytes, expect: tuple[os.stat_result, bytes] | None = None) -> bool:
    """Write via a temp file in the same directory and ``os.replace``: never a half-written file.

    Mode and (where permitted, e.g. as root) owner and group are kept. With ``expect`` (the stat
    and bytes read before rewriting) the file is compared again — mtime, size, inode and a hash —
    right before the replace; if someone changed it meanwhile nothing is written and False is
    returned (their edit wins; the next run picks it up).
    """
    st = path.stat()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".layer-migrate", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, st.st_mode & 0o7777)
        if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:  # not root: the file becomes ours, as with any editor
                pass
        if expect is not None and not _unchanged(path, *expect):
            os.unlink(tmp)
            return False
        os.replace(tmp, path)
        return True
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _run_one(args: tuple[str, Settings, str]) -> FileResult:
    return process_file(*args)


def run(files: list[Path], settings: Settings, mode: str, jobs: int = 1,
        progress: Callable[[FileResult], None] | None = None,
        _work: Callable[[tuple[str, Settings, str]], FileResult] | None = None) -> Iterator[FileResult]:
    """Process ``files`` (in order of completion when ``jobs > 1``), yielding each result.

    ``_work`` replaces the per-file function (tests: a worker that crashes)."""
    work_fn = _work or _run_one
    _options(settings)  # validate the bot map etc. before spawning workers
    work = [(str(f), settings, mode) for f in files]
    if jobs <= 1 or len(work) < 8:
        for item in work:
            r = work_fn(item)
            if progress:
                progress(r)
            yield r
        return
    chunk = max(1, min(64, len(work) // (jobs * 8) or 1))
    # Forked workers share the parent's heap copy-on-write; freezing it keeps their garbage
    # collector from walking (and so copying) every inherited object.
    gc.collect()
    gc.freeze()
    done: set[str] = set()
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for r in pool.map(work_fn, work, chunksize=chunk):
                done.add(r.path)
                if progress:
                    progress(r)
                yield r
    except BrokenProcessPool:
        # A worker died (the native parser can crash the process on pathological input, despite
        # the nesting guard): every file not yet answered is redone alone in its own process, so
        # only the culprit is lost — and reported.
        for item in work:
            if item[0] not in done:
                r = _isolated(item, work_fn)
                if progress:
                    progress(r)
                yield r
    finally:
        gc.unfreeze()


def _isolated(item: tuple[str, Settings, str],
              work_fn: Callable[[tuple[str, Settings, str]], FileResult]) -> FileResult:
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(work_fn, item).result()
    except BrokenProcessPool:
        return FileResult(path=item[0], skipped="the parser crashed on this file: not rewritten", layer_skipped=True)
