"""Benchmark: what ``layer_migrate.install()`` costs per call.

    python bench/inprocess.py [--quick] [--calls N] [--blocks B]

Measured in one run, sequential calls over loopback to a canned upstream in a separate process
(``layer_migrate.proxy.canned``: one fixed ~1.4 KB 3.0 message, keep-alive):

* **non-Layer host** — the same client objects calling ``http://127.0.0.1:PORT/...`` with the
  installation absent (``plain``), present (``installed``) and absent again (``plain_again``,
  the A/A run that shows the noise). Target: ``installed`` within noise of ``plain``, ≤ 2 %.
  For requests (``Session.get``), httpx (``Client.get``) and aiohttp (``ClientSession.get``).
* **translated Layer call** — ``GET https://api.layer.com/.../messages/:id`` from a 1.1 client,
  rerouted to the canned 3.0 upstream, through the installation (``installed``) and through the
  in-process transport the installation builds on, set up by hand (``transport``:
  ``MigratingAdapter`` mounted on a Session / ``httpx.Client(transport=MigratingTransport)``).
  Target: ``installed`` ≤ 1.1 × ``transport``. (aiohttp has no hand-made in-process face to
  compare with; its translated call is reported for information.)

Each figure is a ratio measured in paired blocks: baseline and measured variant back to back (order
alternating), the ratio of their median call times kept per block, the median over blocks
reported — so machine load that drifts between blocks cancels. The installation's own work on a
non-Layer request (the requests/httpx host check, timed without the network) is reported too. Writes
``bench/results/inprocess.json`` and says whether the targets are met.
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = "00000000-0000-4000-8000-00000000a991"
MSG = f"/apps/{APP}/conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f/messages/940de862-3c96-11e4-baad-164230d1df67"
V11 = {"Accept": "application/vnd.layer+json; version=1.1", "Authorization": "Bearer bench-token"}
LAYER = "https://api.layer.com"
LIBS = ("requests", "httpx", "aiohttp")


def serve_canned(port: int) -> None:
    """Run the canned upstream in the foreground (this script's ``--serve`` mode)."""
    from layer_migrate.proxy.canned import CannedBehaviour, serve

    async def main() -> None:
        await serve(CannedBehaviour(), port=port)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def start_canned() -> tuple[subprocess.Popen[str], str]:
    from layer_migrate.proxy.serving import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, f"http://127.0.0.1:{port}"


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    """Median wall time of one call, in microseconds."""
    times = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t)
    return statistics.median(times) / 1000


def hook_cost_us(url: str, n: int = 50_000) -> dict[str, float]:
    """The installation's own work on a non-Layer request, without the network: the requests
    ``get_adapter`` wrapper and the httpx host check, installed minus plain (noise-free)."""
    import timeit

    import httpx
    import requests

    import layer_migrate
    from layer_migrate.inprocess.httpx_hook import _ours
    from layer_migrate.inprocess.installation import _state

    s = requests.Session()
    req = httpx.Request("GET", url)
    plain = min(timeit.repeat(lambda: s.get_adapter(url), number=n, repeat=3)) / n
    with layer_migrate.install("3.0"):
        hooked = min(timeit.repeat(lambda: s.get_adapter(url), number=n, repeat=3)) / n
        check = min(timeit.repeat(lambda: _ours(_state, req), number=n, repeat=3)) / n
        aio = asyncio.run(_aiohttp_middleware_cost(url, n))
    return {"requests": (hooked - plain) * 1e6, "httpx": check * 1e6, "aiohttp": aio}


async def _aiohttp_middleware_cost(url: str, n: int) -> float:
    """µs the installation's middleware adds around aiohttp's handler for a non-Layer request,
    including aiohttp's own per-request cost of building and entering a middleware chain."""
    import aiohttp
    from aiohttp.client_middlewares import build_client_middlewares
    from yarl import URL

    async with aiohttp.ClientSession() as session:
        mw = session._middlewares[-1]
        req = aiohttp.ClientRequest("GET", URL(url), session=session, loop=asyncio.get_running_loop())

        async def handler(r: object) -> object:
            return r

        best = []
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(n):
                await handler(req)
            direct = time.perf_counter() - t
            t = time.perf_counter()
            for _ in range(n):
                await build_client_middlewares(handler, (mw,))(req)
            best.append((time.perf_counter() - t - direct) / n * 1e6)
        return min(best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer calls and rounds (a smoke run, noisier)")
    ap.add_argument("--calls", type=int, default=None, help="calls per variant per block [50; quick 30]")
    ap.add_argument("--blocks", type=int, default=None, help="paired blocks per figure [30; quick 8]")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve_canned(args.serve)
        return
    calls = args.calls or (30 if args.quick else 50)
    blocks = args.blocks or (8 if args.quick else 30)

    import aiohttp
    import httpx
    import requests

    import layer_migrate
    from layer_migrate.proxy import MigratingAdapter, MigratingTransport

    proc, upstream = start_canned()
    other = upstream + MSG  # the canned server doubles as "some other host"
    session = requests.Session()
    hand_session = requests.Session()
    hand_session.mount(LAYER + "/", MigratingAdapter("3.0", upstream=upstream))
    client = httpx.Client()
    hand_client = httpx.Client(transport=MigratingTransport("3.0", upstream=upstream))
    loop = asyncio.new_event_loop()

    def aio(url: str, headers: dict[str, str] | None = None) -> Callable[[], object]:
        holder: dict[str, aiohttp.ClientSession] = {}

        async def one() -> bytes:
            s = holder.get("s")
            if s is None:
                s = holder["s"] = aiohttp.ClientSession()  # created in the variant's state
            async with s.get(url, headers=headers) as r:
                return await r.read()

        def call() -> object:
            return loop.run_until_complete(one())

        def close() -> None:
            if "s" in holder:
                loop.run_until_complete(holder.pop("s").close())

        call.close = close  # type: ignore[attr-defined]
        return call

    installed = {"state": False}

    def state(on: bool) -> None:
        if on and not installed["state"]:
            layer_migrate.install("3.0", upstream=upstream)
        elif not on and installed["state"]:
            layer_migrate.uninstall()
        installed["state"] = on

    # variant → (installation on?, call)
    aio_plain, aio_inst, aio_again, aio_layer = aio(other), aio(other), aio(other), aio(LAYER + MSG, V11)
    variants: dict[str, tuple[bool, Callable[[], object]]] = {
        "requests.other.plain": (False, lambda: session.get(other).content),
        "requests.other.installed": (True, lambda: session.get(other).content),
        "requests.other.plain_again": (False, lambda: session.get(other).content),
        "httpx.other.plain": (False, lambda: client.get(other).content),
        "httpx.other.installed": (True, lambda: client.get(other).content),
        "httpx.other.plain_again": (False, lambda: client.get(other).content),
        "aiohttp.other.plain": (False, aio_plain),
        "aiohttp.other.installed": (True, aio_inst),
        "aiohttp.other.plain_again": (False, aio_again),
        "requests.layer.transport": (False, lambda: hand_session.get(LAYER + MSG, headers=V11).content),
        "requests.layer.installed": (True, lambda: session.get(LAYER + MSG, headers=V11).content),
        "httpx.layer.transport": (False, lambda: hand_client.get(LAYER + MSG, headers=V11).content),
        "httpx.layer.installed": (True, lambda: client.get(LAYER + MSG, headers=V11).content),
        "aiohttp.layer.installed": (True, aio_layer),
    }
    # (figure, baseline variant, measured variant): each block times both back to back, in
    # alternating order, and keeps the ratio — load that drifts between blocks cancels out.
    pairs = [(f"{lib}.other", f"{lib}.other.plain", f"{lib}.other.installed") for lib in LIBS] + \
        [(f"{lib}.other.aa", f"{lib}.other.plain", f"{lib}.other.plain_again") for lib in LIBS] + \
        [(f"{lib}.layer", f"{lib}.layer.transport", f"{lib}.layer.installed") for lib in ("requests", "httpx")] + \
        [("aiohttp.layer", "aiohttp.other.plain", "aiohttp.layer.installed")]
    samples: dict[str, list[float]] = {name: [] for name in variants}
    ratios: dict[str, list[float]] = {fig: [] for fig, _, _ in pairs}
    try:
        for name, (on, fn) in variants.items():  # warm-up: connections, engine pipelines
            state(on)
            for _ in range(20):
                fn()
            if name == "requests.layer.installed":
                body = json.loads(session.get(LAYER + MSG, headers=V11).content)
                assert body["recipient_status"] == {"alice": "read", "bob": "sent", "carol": "delivered"}  # 1.1 keys
        for blk in range(blocks):
            for fig, base_name, test_name in pairs:
                order = (base_name, test_name) if blk % 2 == 0 else (test_name, base_name)
                got = {}
                for name in order:
                    on, fn = variants[name]
                    state(on)
                    got[name] = per_call_us(fn, calls)
                    samples[name].append(got[name])
                ratios[fig].append(got[test_name] / got[base_name])
            if (blk + 1) % 5 == 0 or blk + 1 == blocks:
                print(f"block {blk + 1}/{blocks} done", file=sys.stderr)
    finally:
        state(False)
        for _, fn in variants.values():
            close = getattr(fn, "close", None)
            if close:
                close()
        loop.close()
        proc.terminate()
        proc.wait(10)

    hook = hook_cost_us(other)
    med = {name: statistics.median(v) for name, v in samples.items()}
    ratio = {fig: statistics.median(v) for fig, v in ratios.items()}
    summary: dict[str, dict[str, float | bool]] = {}
    ok = True
    for lib in LIBS:
        overhead, noise = ratio[f"{lib}.other"] - 1, abs(ratio[f"{lib}.other.aa"] - 1)
        met = overhead <= 0.02 or overhead <= noise
        ok &= met
        base = med[f"{lib}.other.plain"]
        summary[f"{lib}.other"] = {"plain_us": base, "installed_us": med[f"{lib}.other.installed"],
                                   "overhead": overhead, "aa_noise": noise, "target_met": met}
        extra = ""
        if lib in hook:
            summary[f"{lib}.other"]["hook_us"] = hook[lib]
            summary[f"{lib}.other"]["hook_share"] = hook[lib] / base
            summary[f"{lib}.other"]["hook_share_within_2pct"] = hook[lib] / base <= 0.02
            extra = f"; the hook itself {hook[lib]:.2f} µs = {hook[lib] / base:.2%} of a call"
        print(f"{lib:<8} non-Layer host: {base:7.1f} µs/call plain, overhead installed {overhead:+.2%} "
              f"(A/A noise {noise:.2%}{extra}) → {'MET' if met else 'NOT MET'} (≤ 2 % or within noise)")
    for lib in ("requests", "httpx"):
        r = ratio[f"{lib}.layer"]
        met = r <= 1.1
        ok &= met
        summary[f"{lib}.layer"] = {"transport_us": med[f"{lib}.layer.transport"],
                                   "installed_us": med[f"{lib}.layer.installed"], "ratio": r, "target_met": met}
        print(f"{lib:<8} translated Layer call: {med[f'{lib}.layer.transport']:7.1f} µs/call via the transport, "
              f"installed {r:.3f}× → {'MET' if met else 'NOT MET'} (≤ 1.1×)")
    summary["aiohttp.layer"] = {"installed_us": med["aiohttp.layer.installed"],
                                "vs_untranslated_request": ratio["aiohttp.layer"]}
    print(f"aiohttp  translated Layer call: {med['aiohttp.layer.installed']:7.1f} µs/call installed, "
          f"{ratio['aiohttp.layer']:.2f}× an untranslated request to the same server "
          f"(no hand-made in-process face to compare; for information)")
    load = os.getloadavg()[0]
    loaded = load > (os.cpu_count() or 1) * 0.75
    print(f"\ntargets: {'MET' if ok else 'NOT MET'}  [{blocks} paired blocks × {calls} calls, "
          f"{os.cpu_count()} cores, load average {load:.2f}{' — machine loaded, figures noisy' if loaded else ''}]")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "inprocess.json").write_text(json.dumps({
        "calls_per_block": calls, "blocks": blocks, "quick": args.quick, "cores": os.cpu_count(),
        "load_average_at_end": os.getloadavg(), "median_us": med, "median_ratio": ratio,
        "samples_us": samples, "summary": summary, "targets_met": ok}, indent=2))
    print(f"wrote {out / 'inprocess.json'}")


if __name__ == "__main__":
    main()
