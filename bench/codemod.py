"""Codemod throughput against a bare libcst parse + code generation of the same files.

Builds a corpus (default 1,200 files: Layer integration files generated from the sample app and
the codemod's fixture cases with renamed identifiers, mixed with ordinary Python taken from the
standard library), then measures in this one run:

* bare libcst: ``parse_module(bytes).bytes`` per file (the baseline);
* the codemod in one process: :func:`layer_migrate.codemod.rewrite_source` per file (pre-filter,
  parse, collect, rewrite, imports, re-parse of its output), no writes;
* both again on the Layer files only;
* ``-j 2`` scaling of the runner (``--check`` mode over the files on disk, includes file reads).

Prints files/s and ratios; writes ``bench/results/codemod.json``.
Usage: ``python bench/codemod.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import libcst as cst

from layer_migrate.codemod import Options, build_index, rewrite_source
from layer_migrate.codemod.runner import Settings, run
from layer_migrate.identity import BotDirectory

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "codemod.json"


def layer_templates() -> list[str]:
    out = []
    for p in sorted((ROOT / "samples" / "legacy_app").rglob("*.py")):
        out.append(p.read_text(encoding="utf-8"))
    for p in sorted((ROOT / "tests" / "codemod" / "cases").glob("*.case")):
        text = p.read_text(encoding="utf-8")
        if text.startswith("# options:"):
            text = text.split("\n", 1)[1]
        out.append(re.split(r"# --- (?:after|unchanged) ---\n", text)[0])
    return out


def ordinary_sources(limit: int) -> list[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for p in sorted(stdlib.glob("*.py")):
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if not 500 < len(data) < 60_000:
            continue
        try:
            cst.parse_module(data)
        except Exception:
            continue
        out.append(data.decode("utf-8", errors="replace"))
        if len(out) >= limit:
            break
    return out


def build_corpus(n_files: int, layer_share: float, seed: int = 7) -> tuple[list[bytes], list[bytes]]:
    rng = random.Random(seed)
    templates = layer_templates()
    ordinary = ordinary_sources(400)
    n_layer = int(n_files * layer_share)
    layer_files = []
    for i in range(n_layer):
        src = templates[i % len(templates)]
        # vary identifiers so files are not byte-identical (no caching effects anywhere)
        src = src.replace("def ", f"def v{i}_", 3).replace("alice", f"alice{i}")
        layer_files.append(src.encode("utf-8"))
    plain = [ordinary[rng.randrange(len(ordinary))].encode("utf-8") for _ in range(n_files - n_layer)]
    return layer_files, plain


def bare(files: list[bytes]) -> float:
    t0 = time.perf_counter()
    for data in files:
        cst.parse_module(data).bytes  # noqa: B018 - code generation is the measured work
    return time.perf_counter() - t0


def codemod(files: list[bytes], options: Options) -> float:
    t0 = time.perf_counter()
    for data in files:
        rewrite_source(data, options)
    return time.perf_counter() - t0


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def runner_time(paths: list[Path], jobs: int, settings: Settings) -> tuple[float, float]:
    """Wall time and CPU time (this process + its workers) of one ``--check`` run."""
    c0, t0 = _cpu(), time.perf_counter()
    for _ in run(paths, settings, "check", jobs=jobs):
        pass
    return time.perf_counter() - t0, _cpu() - c0


def peak_rss(folder: str, jobs: int) -> float:
    """Peak RSS in MiB of the largest process of ``layer-migrate codemod --check -j N`` on
    ``folder`` (run in a child interpreter, so this process's own heap does not count)."""
    code = ("import resource, sys\nfrom layer_migrate.cli import main\n"
            "try:\n    main(['codemod', '--check', '-q', '-j', sys.argv[1], sys.argv[2]])\n"
            "except SystemExit:\n    pass\n"
            "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(max(own, kids))\n")
    out = subprocess.run([sys.executable, "-c", code, str(jobs), folder], capture_output=True, text=True,
                         timeout=600, check=False)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller corpus (smoke run)")
    ap.add_argument("--files", type=int, default=None)
    ap.add_argument("--layer-share", type=float, default=0.25)
    args = ap.parse_args()
    n = args.files or (240 if args.quick else 1200)
    layer_files, plain = build_corpus(n, args.layer_share)
    corpus = layer_files + plain
    random.Random(3).shuffle(corpus)
    options = Options(index=build_index("3.0"), bots=BotDirectory({"Support": "support-bot"}))

    # warm-up (imports, caches of libcst's parser)
    bare(corpus[:20])
    codemod(corpus[:20], options)

    t_bare = bare(corpus)
    t_mod = codemod(corpus, options)
    t_bare_l = bare(layer_files)
    t_mod_l = codemod(layer_files, options)
    changed = sum(rewrite_source(f, options).changed for f in layer_files)

    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, data in enumerate(corpus):
            p = Path(d) / f"pkg{i % 20}" / f"m{i}.py"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(data)
            paths.append(p)
        settings = Settings(target="3.0")
        t_j1, cpu_j1 = runner_time(paths, 1, settings)
        t_j2, cpu_j2 = runner_time(paths, 2, settings)
        rss_j1 = peak_rss(d, 1)
        rss_j2 = peak_rss(d, 2)

    def fps(count: int, seconds: float) -> float:
        return count / seconds if seconds else float("inf")

    result = {
        "files": len(corpus), "layer_files": len(layer_files), "ordinary_files": len(plain),
        "layer_files_changed": changed,
        "mixed": {"bare_libcst_fps": fps(len(corpus), t_bare), "codemod_fps": fps(len(corpus), t_mod),
                  "ratio": t_bare / t_mod},
        "layer_only": {"bare_libcst_fps": fps(len(layer_files), t_bare_l),
                       "codemod_fps": fps(len(layer_files), t_mod_l), "ratio": t_bare_l / t_mod_l},
        "runner": {"j1_fps": fps(len(corpus), t_j1), "j2_fps": fps(len(corpus), t_j2),
                   "j2_scaling": t_j1 / t_j2,
                   # CPU spent by -j 2 relative to -j 1: 1.0 = no parallel overhead. Unlike the wall
                   # clock scaling it does not depend on other load on the machine.
                   "j2_cpu_overhead": cpu_j2 / cpu_j1,
                   "peak_rss_mib_j1": rss_j1, "peak_rss_mib_j2_per_process": rss_j2},
        "python": sys.version.split()[0], "quick": args.quick,
    }
    print(f"corpus: {len(corpus)} files ({len(layer_files)} Layer, {len(plain)} ordinary); "
          f"{changed} Layer files rewritten")
    for key, label in (("mixed", "mixed corpus"), ("layer_only", "Layer files only")):
        r = result[key]
        print(f"{label:18s} bare libcst {r['bare_libcst_fps']:8.1f} files/s | codemod "
              f"{r['codemod_fps']:8.1f} files/s | ratio {r['ratio']:.2f} (target >= 0.5)")
    r = result["runner"]
    print(f"runner --check     -j1 {r['j1_fps']:8.1f} files/s | -j2 {r['j2_fps']:8.1f} files/s | "
          f"scaling {r['j2_scaling']:.2f}x (CPU overhead of -j2: {r['j2_cpu_overhead']:.2f}x; wall-clock "
          f"scaling needs 2 idle cores)")
    print(f"peak RSS          -j1 {r['peak_rss_mib_j1']:6.1f} MiB | -j2 "
          f"{r['peak_rss_mib_j2_per_process']:6.1f} MiB per process")
    met = result["layer_only"]["ratio"] >= 0.5
    result["targets_met"] = {"layer_only_ratio_ge_0.5": met}
    print(f"target codemod >= 0.5x bare libcst on Layer files: {'MET' if met else 'NOT MET'}"
          f" ({result['layer_only']['ratio']:.2f}x)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
