"""Emulator throughput: message sends per second and latency percentiles at concurrency 64.

Runs ``layer-migrate emulator`` in a subprocess (its own interpreter, as a proxy soak would see
it) and drives it with aiohttp. The baseline, measured in the same run, is the emulator's
cheapest request (``GET /_emulator/health``: ASGI + HTTP only, no store); the printed ratios say
how much of the HTTP ceiling a real send keeps.

    python bench/emulator.py [--quick]

Writes ``bench/results/emulator.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

APP = "00000000-0000-4000-8000-00000000a991"
HEADERS_V1 = {"Authorization": "Bearer emulator-token", "Accept": "application/vnd.layer+json; version=1.0"}
HEADERS_V3 = {"Authorization": "Bearer emulator-token", "Accept": "application/vnd.layer+json; version=3.0"}


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "layer_migrate.cli", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return proc, line.strip().rsplit(" ", 1)[-1]


async def drive(session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
                bodies: list[object] | None, total: int, concurrency: int, expect: int) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(total))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            body = None if bodies is None else bodies[i % len(bodies)]
            t0 = time.perf_counter()
            async with session.request(method, url, json=body, headers=headers) as resp:
                await resp.read()
                if resp.status != expect:
                    errors += 1
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"requests": total, "errors": errors, "seconds": round(elapsed, 3), "per_second": round(total / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}


async def main(quick: bool) -> dict[str, object]:
    total = 1500 if quick else 8000
    concurrency = 64
    proc, base = start_emulator()
    try:
        conn = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base_url=base, connector=conn) as s:
            for _ in range(100):
                try:
                    async with s.get("/_emulator/health") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            async with s.post(f"/apps/{APP}/conversations", json={"participants": ["a", "b"], "distinct": False},
                              headers=HEADERS_V1) as r:
                conv = (await r.json())["id"].rsplit("/", 1)[-1]
            async with s.post(f"/apps/{APP}/users/a/identity", json={"display_name": "A"}, headers=HEADERS_V1) as r:
                assert r.status == 201
            # warm-up
            await drive(s, "GET", "/_emulator/health", {}, None, 200, concurrency, 200)
            baseline = await drive(s, "GET", "/_emulator/health", {}, None, total, concurrency, 200)
            msg_url = f"/apps/{APP}/conversations/{conv}/messages"
            v1 = await drive(s, "POST", msg_url, HEADERS_V1,
                             [{"sender": {"user_id": "a"}, "parts": [{"body": "hello", "mime_type": "text/plain"}]}],
                             total, concurrency, 201)
            v3 = await drive(s, "POST", msg_url, HEADERS_V3,
                             [{"sender_id": "layer:///identities/a", "parts": [{"body": "hello", "mime_type": "text/plain"}]}],
                             total, concurrency, 201)
            reads = await drive(s, "GET", f"/apps/{APP}/conversations/{conv}/messages?page_size=10", HEADERS_V3, None,
                                total // 2, concurrency, 200)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    result = {"concurrency": concurrency, "cpu_count": os.cpu_count(), "baseline_health": baseline,
              "send_v1": v1, "send_v3": v3, "list_v3_page10": reads,
              "ratio_send_v1_vs_baseline": round(v1["per_second"] / baseline["per_second"], 3),
              "ratio_send_v3_vs_baseline": round(v3["per_second"] / baseline["per_second"], 3),
              "ratio_list_vs_baseline": round(reads["per_second"] / baseline["per_second"], 3)}
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (for CI smoke runs)")
    args = parser.parse_args()
    res = asyncio.run(main(args.quick))
    for name in ("baseline_health", "send_v1", "send_v3", "list_v3_page10"):
        r = res[name]
        print(f"{name:16s} {r['per_second']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
              f"  errors {r['errors']}")
    print(f"send 1.0 / baseline = {res['ratio_send_v1_vs_baseline']:.2f}   send 3.0 / baseline = "
          f"{res['ratio_send_v3_vs_baseline']:.2f}   list / baseline = {res['ratio_list_vs_baseline']:.2f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "emulator.json").write_text(json.dumps(res, indent=2))
