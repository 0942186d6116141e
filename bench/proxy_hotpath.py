"""In-process cost of one proxy exchange: translate vs pass-through, without sockets.

    python bench/proxy_hotpath.py [--quick] [--profile]

Why: ``bench/proxy.py`` measures req/s through real servers, where the event loop, HTTP
parsing and the upstream hop dominate and a shared machine adds noise. This bench isolates
the part the proxy adds per request on top of that — the exchange flow (:mod:`layer_migrate.proxy.flow`),
the :class:`~layer_migrate.proxy.migrator.Migrator` decisions and the engine — by running the
real ``run_async`` flow over N exchanges with a canned upstream answer (the ~1.4 KB 3.0 message
of ``bench/proxy.py``). Each exchange does what the proxy's ASGI app does around the flow:
build the :class:`Request` from lower-cased header fields, parse the upstream JSON
(translate) or keep its bytes (pass-through), and serialise the answer.

Cases, interleaved per round so load from other processes hits them alike:

* ``passthrough`` — a 3.0 client (no translation, no parse);
* ``translate``   — a 1.1 client (R24/R25/R27/R29 downgrade of the answer);
* ``engine``      — ``Engine.translate_response`` + orjson parse/serialise alone (the floor
                    ``translate`` cannot go below).

Prints µs/exchange (best batch of each round, median and min over rounds), the ratios
``translate/passthrough`` and ``(translate − engine)/passthrough`` (what is not the engine),
and writes ``bench/results/proxy_hotpath.json``. ``--profile`` prints the cProfile top of the
translate case. CPU time (``time.process_time``) is used, so a loaded machine slows rounds but
the ratios stay comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layer_migrate.exchange import Request, Response  # noqa: E402
from layer_migrate.proxy.app import ProxyApp  # noqa: E402
from layer_migrate.proxy.bodypolicy import decode  # noqa: E402
from layer_migrate.proxy.canned import canned_message  # noqa: E402
from layer_migrate.proxy.config import ProxyConfig  # noqa: E402
from layer_migrate.proxy.flow import run_async  # noqa: E402
from layer_migrate.proxy.http import parse_response_body  # noqa: E402
from layer_migrate.proxy.migrator import Migrator  # noqa: E402

APP = "00000000-0000-4000-8000-00000000a991"
PATH = (f"/apps/{APP}/conversations/e67b5da2-95ca-40c4-bfc5-a2a8baaeb50f/messages/"
        "940de862-3c96-11e4-baad-164230d1df67")
V1 = "application/vnd.layer+json; version=1.1"
V3 = "application/vnd.layer+json; version=3.0"
#: the header fields a wrk/aiohttp client sends, as the ASGI scope carries them
FIELDS = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"bench"), (b"authorization", b"Bearer t0k3n"),
          (b"accept-encoding", b"gzip, deflate")]
UP_HEADERS = {"content-type": "application/vnd.layer+json; version=3.0; charset=utf-8",
              "content-length": "1400", "date": "Tue, 01 Dec 2026 21:00:00 GMT"}
RESULTS = Path(__file__).resolve().parent / "results" / "proxy_hotpath.json"


def _scope_headers(fields: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """What the ASGI app hands the flow (``proxy/app.py`` ``_headers``: decode + lower once)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in fields}


async def _exchanges(m: Migrator, accept: str, n: int, body: bytes) -> None:
    fields = [*FIELDS, (b"accept", accept.encode())]

    async def send(req: Request) -> Response:
        hdrs = dict(UP_HEADERS)
        parsed, rest = parse_response_body(hdrs, body)
        return Response(200, hdrs, parsed, rest)

    async def send_raw(req: Request) -> Response:
        return Response(200, dict(UP_HEADERS), None, body)

    for _ in range(n):
        req = Request("GET", PATH, _scope_headers(fields), None, None)
        out = await run_async(m, req, send, send_raw=send_raw)
        resp = out.response
        data = orjson.dumps(resp.body) if resp.body is not None else resp.raw
        assert data, "empty answer"


class _CannedUpstream:
    """Stands in for :class:`~layer_migrate.proxy.fastclient.FastUpstream` after the socket:
    the same body policy (:func:`~layer_migrate.proxy.bodypolicy.decode`) and JSON parse."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def send(self, req: Request, *, parse: bool = True) -> Response:
        headers, raw = decode(dict(UP_HEADERS), self.body)
        if not parse:
            return Response(200, headers, None, raw)
        parsed, rest = parse_response_body(headers, raw)
        return Response(200, headers, parsed, rest)


def _app(body: bytes) -> ProxyApp:
    app = ProxyApp(ProxyConfig(upstream="http://127.0.0.1:9", access_log=None))
    app.fast = _CannedUpstream(body)  # type: ignore[assignment]
    app._started = True  # no sockets: nothing to start
    return app


async def _app_requests(app: ProxyApp, accept: str, n: int) -> None:
    """The whole ASGI app per request (headers, request id, flow, answer, metrics), no server."""
    scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(),
             "query_string": b"", "headers": [*FIELDS, (b"accept", accept.encode())],
             "client": ("127.0.0.1", 5000)}
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    for _ in range(n):
        await app.http(scope, receive, send)
        assert sent[-1]["body"], "empty answer"
        sent.clear()


def _engine_only(m: Migrator, n: int, body: bytes) -> None:
    req = Request("GET", PATH, {**_scope_headers(FIELDS), "accept": V1})
    eng, opts = m.engine, m.options
    for _ in range(n):
        resp = Response(200, dict(UP_HEADERS), orjson.loads(body))
        r = eng.translate_response(req, resp, source="3.0", to="1.1", options=opts)
        orjson.dumps(r.response.body)


def _timed(fn: Any, n: int) -> float:
    """µs per exchange of one batch of ``n``, in process CPU time."""
    t0 = time.process_time()
    fn(n)
    return (time.process_time() - t0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="fewer, smaller rounds")
    ap.add_argument("--profile", action="store_true", help="print the cProfile top of one case")
    ap.add_argument("--profile-case", default="translate", help="the case --profile runs [translate]")
    args = ap.parse_args()
    rounds, batches, n = (5, 3, 1000) if args.quick else (9, 5, 3000)
    body = canned_message()
    m = Migrator("3.0")
    loop = asyncio.new_event_loop()
    app = _app(body)
    cases = {
        "passthrough": lambda k: loop.run_until_complete(_exchanges(m, V3, k, body)),
        "translate": lambda k: loop.run_until_complete(_exchanges(m, V1, k, body)),
        "engine": lambda k: _engine_only(m, k, body),
        "app_passthrough": lambda k: loop.run_until_complete(_app_requests(app, V3, k)),
        "app_translate": lambda k: loop.run_until_complete(_app_requests(app, V1, k)),
    }
    for fn in cases.values():  # warm: compile pipelines, memoise routes and Accept values
        fn(200)
    per_round: dict[str, list[float]] = {c: [] for c in cases}
    for _ in range(rounds):
        best = {c: float("inf") for c in cases}
        for _ in range(batches):
            for c, fn in cases.items():
                best[c] = min(best[c], _timed(fn, n))
        for c in cases:
            per_round[c].append(best[c])
    ratio = [t / p for t, p in zip(per_round["translate"], per_round["passthrough"], strict=True)]
    extra = [(t - e) / p for t, e, p in zip(per_round["translate"], per_round["engine"],
                                            per_round["passthrough"], strict=True)]
    summary = {c: {"median_us": round(statistics.median(v), 2), "min_us": round(min(v), 2),
                   "rounds_us": [round(x, 2) for x in v]} for c, v in per_round.items()}
    out = {
        "bench": "proxy_hotpath", "quick": args.quick, "python": platform.python_version(),
        "exchanges_per_batch": n, "batches": batches, "rounds": rounds, "cases": summary,
        "translate_over_passthrough": {"median": round(statistics.median(ratio), 3),
                                       "min": round(min(ratio), 3)},
        "non_engine_over_passthrough": {"median": round(statistics.median(extra), 3),
                                        "min": round(min(extra), 3)},
    }
    for c, s in summary.items():
        print(f"{c:12s} {s['median_us']:8.2f} µs/exchange (min {s['min_us']:.2f})")
    t = out["translate_over_passthrough"]
    x = out["non_engine_over_passthrough"]
    print(f"translate / passthrough        {t['median']:.3f} (min {t['min']:.3f})")
    print(f"(translate − engine) / pass    {x['median']:.3f} (min {x['min']:.3f})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        cases[args.profile_case](n * 2)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    loop.close()


if __name__ == "__main__":
    main()
