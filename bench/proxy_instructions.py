"""Instructions per request through the real proxy: translate vs its own pass-through.

    python bench/proxy_instructions.py [--quick] [--requests N]

Why: ``bench/proxy.py`` measures req/s, which on a shared 2-core machine moves with whatever
else runs (the load generator and the upstream share the cores with the proxy). Valgrind's
callgrind counts the instructions the proxy process executes, which is repeatable whatever the
machine is doing, so this bench gives a load-independent view of issue 14 §1: the proxy runs
under ``valgrind --tool=callgrind`` in front of the canned upstream
(:mod:`layer_migrate.proxy.canned`, the ~1.4 KB 3.0 message of ``bench/proxy.py``), a keep-alive
client sends ``N`` requests per case after a warm-up, and only the measured window is counted
(``callgrind_control``: instrumentation on, zero, dump).

Cases: ``passthrough`` (a 3.0 client), ``translate`` (a 1.1 client: R24/R25/R27/R29 downgrade).
The ratio ``passthrough ÷ translate`` instructions is what the req/s ratio would be if the proxy
were CPU-bound with instruction-proportional cost (system-call time in the kernel is not
counted, cache misses are not weighted) — the issue's target is ≥ 0.85. Writes
``bench/results/proxy_instructions.json``. Needs valgrind (skips with a message otherwise).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "proxy_instructions.json"
APP = "00000000-0000-4000-8000-00000000a991"
PATH = (f"/apps/{APP}/conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f/messages/"
        "940de862-3c96-11e4-baad-164230d1df67")
CASES = {"passthrough": "3.0", "translate": "1.1"}
TARGET = 0.85


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start within {seconds:.0f} s")


def send(port: int, version: str, n: int) -> None:
    """``n`` GETs on one keep-alive connection; every answer must be a 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept": f"application/vnd.layer+json; version={version}",
               "Authorization": "Bearer t0k3n", "User-Agent": "bench"}
    try:
        for _ in range(n):
            conn.request("GET", PATH, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{version} client got {resp.status}")
    finally:
        conn.close()


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=120)


def dumped_total(out_dir: Path, trigger: str) -> int:
    """The ``totals:`` line of the dump made with ``callgrind_control -d trigger``."""
    for f in out_dir.glob("cg.out*"):
        text = f.read_text(errors="replace")
        if f"Trigger: dump {trigger}" in text:
            m = re.search(r"^totals:\s+(\d+)", text, re.M)
            if m:
                return int(m.group(1))
    raise RuntimeError(f"no callgrind dump for {trigger!r} in {out_dir}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 requests per case instead of 1000")
    ap.add_argument("--requests", type=int, default=None, help="requests per case [1000, quick: 300]")
    ap.add_argument("--access-log", default="off", metavar="TARGET",
                    help="the proxy's --access-log (a file path, '-' or off) [off]")
    args = ap.parse_args()
    n = args.requests or (300 if args.quick else 1000)
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("valgrind/callgrind_control not installed: nothing measured (apt-get install valgrind)")
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    tmp = Path(tempfile.mkdtemp(prefix="bench-instr-"))
    up, prox = free_port(), free_port()
    canned = subprocess.Popen([sys.executable, "-m", "layer_migrate.proxy.canned", "--port", str(up)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/cg.out",
         sys.executable, "-m", "layer_migrate.cli", "proxy", "--upstream", f"http://127.0.0.1:{up}",
         "--port", str(prox), "--access-log", args.access_log],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    totals: dict[str, int] = {}
    try:
        wait_up(up, canned, 30)
        wait_up(prox, proxy, 180)
        for version in CASES.values():  # warm: plans compiled, Accept values memoised
            send(prox, version, 200)
        control(proxy.pid, "-i", "on")
        for case, version in CASES.items():
            control(proxy.pid, "-z")
            send(prox, version, n)
            control(proxy.pid, "-d", case)
            totals[case] = dumped_total(tmp, case)
    finally:
        for p in (proxy, canned):
            p.send_signal(signal.SIGTERM)
        for p in (proxy, canned):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    per = {c: totals[c] / n for c in CASES}
    ratio = per["passthrough"] / per["translate"]
    for c, v in per.items():
        print(f"{c:12s} {v / 1000:8.1f} k instructions/request")
    print(f"translation adds {(per['translate'] - per['passthrough']) / 1000:.1f} k instructions/request")
    met = ratio >= TARGET
    print(f"passthrough ÷ translate instructions {ratio:.3f}  "
          f"(target ≥ {TARGET}, issue 14 §1, CPU-bound estimate): {'met' if met else 'NOT MET'}")
    out = {"bench": "proxy_instructions", "python": platform.python_version(), "requests_per_case": n,
           "access_log": args.access_log,
           "instructions_per_request": {c: round(v) for c, v in per.items()},
           "passthrough_over_translate": round(ratio, 4), "target": TARGET, "met": met}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
