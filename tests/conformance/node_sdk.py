"""Fetch, cache and run Layer's Node SDK (npm ``layer-api``) and its own integration suite.

Standard library only, so ``.ci/run`` can prime the cache before the test suite runs::

    python tests/conformance/node_sdk.py --prime

The package is never committed: ``npm pack layer-api@<version>`` downloads the published tarball
into a cache folder keyed by version, it is unpacked there and ``npm install`` adds its dev
dependencies (mocha, should, nock). The finished tree is renamed into place only when complete,
under a file lock, so concurrent test runs never see (or build) a half-installed SDK.

Cache root: ``$LAYER_MIGRATE_CONFORMANCE_CACHE``, else ``$XDG_CACHE_HOME/layer-migrate-conformance``,
else ``~/.cache/layer-migrate-conformance``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "layer-api"
VERSION = "2.3.3"
#: The suite's files, in the order ``mocha test/integration`` runs them.
SPEC_FILES = ("announcements", "blocklist", "conversations", "identities", "messages")
SHIM = Path(__file__).with_name("redirect-agent.js")
REPORTER = Path(__file__).with_name("json-file-reporter.js")
NPM_TIMEOUT = 600
MOCHA_TIMEOUT = 120
#: Per-case mocha timeout (mocha's default is 2 s; the suite was written against a live service and
#: this machine is shared). A command-line option of the runner, not an edit of the suite.
CASE_TIMEOUT_MS = 15000


class ToolMissing(RuntimeError):
    """node or npm is not on PATH (the only reason the Node conformance tests may skip)."""


class InstallFailed(RuntimeError):
    """Anything else that went wrong fetching or installing the SDK (a test failure)."""


def cache_root() -> Path:
    explicit = os.environ.get("LAYER_MIGRATE_CONFORMANCE_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "layer-migrate-conformance"


def require_tools() -> tuple[str, str]:
    """Paths of ``node`` and ``npm``; :class:`ToolMissing` naming the first one absent."""
    found = {}
    for tool in ("node", "npm"):
        path = shutil.which(tool)
        if path is None:
            raise ToolMissing(f"{tool} not found on PATH: the {PACKAGE} conformance suite needs "
                              f"Node.js and npm (.ci/run installs them)")
        found[tool] = path
    return found["node"], found["npm"]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=NPM_TIMEOUT,
                              env={**os.environ, "npm_config_audit": "false", "npm_config_fund": "false",
                                   "npm_config_update_notifier": "false"})
    except subprocess.TimeoutExpired as exc:
        raise InstallFailed(f"{what} timed out after {NPM_TIMEOUT}s") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise InstallFailed(f"{what} exited {done.returncode}:\n" + "\n".join(tail))


def ensure_installed(version: str = VERSION) -> Path:
    """The unpacked, dependency-installed SDK (``.../layer-api-<version>/package``), cached."""
    _, npm = require_tools()
    root = cache_root()
    final = root / f"{PACKAGE}-{version}"
    package = final / "package"
    if (final / ".complete").is_file():
        return package
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{PACKAGE}-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / ".complete").is_file():  # another run finished while we waited
            return package
        work = Path(tempfile.mkdtemp(prefix=f".{PACKAGE}-{version}-", dir=root))
        try:
            _run([npm, "pack", f"{PACKAGE}@{version}", "--silent"], work, f"npm pack {PACKAGE}@{version}")
            tarballs = list(work.glob(f"{PACKAGE}-{version}.tgz"))
            if len(tarballs) != 1:
                raise InstallFailed(f"npm pack {PACKAGE}@{version} produced no {PACKAGE}-{version}.tgz")
            with tarfile.open(tarballs[0]) as tar:
                tar.extractall(work, filter="data")
            if not (work / "package" / "test" / "integration").is_dir():
                raise InstallFailed(f"{PACKAGE}@{version} tarball has no test/integration folder")
            _run([npm, "install", "--no-audit", "--no-fund", "--no-package-lock"], work / "package",
                 f"npm install (dev dependencies of {PACKAGE}@{version})")
            if not (work / "package" / "node_modules" / "mocha" / "bin" / "_mocha").is_file():
                raise InstallFailed("npm install finished but mocha is missing")
            (work / ".complete").write_text(f"{PACKAGE}@{version}\n")
            if final.exists():  # a stale, incomplete tree from an interrupted run
                shutil.rmtree(final)
            work.rename(final)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    return package


@dataclass(frozen=True)
class CaseResult:
    """One mocha ``it`` case: its spec file, full title, which occurrence of that title it is."""

    spec: str
    title: str
    occurrence: int
    passed: bool
    error: str = ""

    @property
    def key(self) -> str:
        suffix = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.spec}: {self.title}{suffix}"


def run_suite(package: Path, *, target: str, ca: Path, token: str, app_id: str,
              spec_paths: Sequence[str] | None = None) -> list[CaseResult]:
    """Run ``test/integration/*.spec.js`` (or ``spec_paths``) in one mocha process (as
    ``mocha test/integration`` would); one result per case, in run order.

    The suite reads ``LAYER_TOKEN`` and ``LAYER_APP_ID`` from the environment (its own config);
    ``redirect-agent.js`` sends its https traffic to ``target`` (``HOST:PORT`` of a TLS front);
    ``json-file-reporter.js`` writes mocha's JSON report document to a file.
    """
    node, _ = require_tools()
    with tempfile.TemporaryDirectory(prefix="mocha-report-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = {**os.environ, "LAYER_TOKEN": token, "LAYER_APP_ID": app_id,
               "LAYER_CONFORMANCE_TARGET": target, "LAYER_CONFORMANCE_CA": str(ca),
               "LAYER_CONFORMANCE_REPORT": str(report_path)}
        specs = spec_paths if spec_paths is not None else [f"test/integration/{s}.spec.js" for s in SPEC_FILES]
        cmd = [node, "--require", str(SHIM), str(package / "node_modules" / "mocha" / "bin" / "_mocha"),
               "--reporter", str(REPORTER), "--timeout", str(CASE_TIMEOUT_MS), *specs]
        try:
            done = subprocess.run(cmd, cwd=package, capture_output=True, text=True, timeout=MOCHA_TIMEOUT,
                                  env=env)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"mocha did not finish within {MOCHA_TIMEOUT}s") from exc
        try:
            report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AssertionError(f"mocha (exit {done.returncode}) wrote no JSON report:\n"
                                 f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}") from exc
    seen: dict[tuple[str, str], int] = {}
    out = []
    for test in report["tests"]:
        spec = Path(test["file"] or "?").name.removesuffix(".spec.js")
        title = test["fullTitle"]
        seen[spec, title] = seen.get((spec, title), 0) + 1
        err = test["err"]
        out.append(CaseResult(spec, title, seen[spec, title], not err, err.get("message", "")))
    return out


def main(argv: list[str]) -> int:
    if argv != ["--prime"]:
        print("usage: python tests/conformance/node_sdk.py --prime", file=sys.stderr)
        return 2
    try:
        path = ensure_installed()
    except (ToolMissing, InstallFailed) as exc:
        print(f"node_sdk: {exc}", file=sys.stderr)
        return 1
    print(f"{PACKAGE}@{VERSION} ready in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
