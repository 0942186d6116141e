"""Verify reads before the cut-over: compare the proxy's downgraded answer with the native v1 one.

While the live service still serves v1, a sampled v1 ``GET`` the proxy translated is *also* sent
upstream as the client sent it (reads only, so this is safe), after the client has its answer:
the native v1 body and the body the proxy produced from the newer version must be the same,
apart from values that legitimately differ between two reads (timestamps' rendering, signed
download URLs). Each difference is attributed to the response rule that caused it — the rule
whose removal from the engine makes that difference disappear when the captured newer-version
answer is translated again — and counted by endpoint and rule in metrics, and logged with one
example diff (JSON Patch, RFC 6902) for ``proxy report``'s "translation differences" table.

Bounded overhead: sampling (``verify_sample``), the extra read runs in a background task off the
response path, at most ``verify_max_inflight`` run at once per worker (beyond that samples are
dropped and counted), each bounded by the upstream timeout; re-checks and attribution run only
for a difference not seen before (same endpoint and paths), and its example is logged once.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

import jsonpatch
import orjson

from ..exchange import Request, Response
from .expected import engine_of
from .logs import REQUEST_ID
from .metrics import Metrics
from .migrator import Migrator, Outcome, Plan

Send = Callable[[Request], Awaitable[Response]]
Report = Callable[[dict[str, Any], "str | None"], None]

#: Keys whose values are generated per read (signed content URLs and their expiry).
GENERATED_KEYS = frozenset({"download_url", "refresh_url", "expiration"})
#: ISO-8601 timestamps compare as present/absent only: their rendering (precision, ``Z`` vs
#: ``+00:00``) is not a translation difference.
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
#: Where the proxy keeps the sampled exchange inside the ASGI scope.
SCOPE_KEY = "layer_migrate.verify"
#: Back-to-back re-reads of both versions before a difference counts (see ``_verify``), and the
#: pause growth between them (seconds).
RECHECKS = 3
RECHECK_PAUSE = 0.05
#: Distinct differences remembered (a broken rule differs the same way on every read: the first
#: is re-checked, attributed and logged with its example; the rest are only counted).
KNOWN_SIGNATURES = 1024
#: Largest example diff kept per record (operations).
EXAMPLE_OPS = 5


def normalise(value: Any) -> Any:
    """``value`` with generated values blanked (see :data:`GENERATED_KEYS`, :data:`_TIME`)."""
    if isinstance(value, dict):
        return {k: ("<generated>" if k in GENERATED_KEYS and v is not None else normalise(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str) and len(value) < 40 and _TIME.match(value):
        return "<time>"
    return value


def as_written(native: Any, bots: Any) -> Any:
    """``native`` with the proxy's own bot identities shown as the v1 ``sender.name`` they stand
    for (R22/R35).

    A message a v1 client sent *through the proxy* as ``{"name": "Support"}`` is stored upstream
    from the bot user the proxy provisioned, so a native v1 read shows
    ``{"user_id": "bot-support", "name": null}`` while the proxy answers what the client wrote.
    That difference comes from the proxy's write path, not from a read translation, and is the
    one equivalence the comparison allows.
    """
    if isinstance(native, list):
        return [as_written(v, bots) for v in native]
    if not isinstance(native, dict):
        return native
    out = {k: as_written(v, bots) for k, v in native.items()}
    sender = out.get("sender")
    if isinstance(sender, dict) and sender.get("name") is None and bots.is_bot(sender.get("user_id")):
        name = bots.name_for(sender.get("user_id"))
        if name is not None:
            out["sender"] = {**sender, "user_id": None, "name": name}
    return out


def differences(native: Any, downgraded: Any) -> list[dict[str, Any]]:
    """JSON Patch turning the native v1 body into the downgraded one (empty = same)."""
    return list(jsonpatch.make_patch(normalise(native), normalise(downgraded)))


class Verifier:
    """Samples translated v1 GETs, re-reads them natively, compares, attributes, reports."""

    def __init__(self, migrator: Migrator, metrics: Metrics, send: Send, report: Report, *,
                 sample: float, max_inflight: int, timeout: float, upstream_version: str,
                 rng: random.Random | None = None) -> None:
        self.migrator = migrator
        self.metrics = metrics
        self.send = send
        self.report = report
        self.sample = sample
        self.max_inflight = max(0, max_inflight)
        self.timeout = timeout
        self.upstream_version = upstream_version
        self.tasks: set[asyncio.Task[None]] = set()
        self.rng = rng or random.Random()
        self._without: dict[str, Any] = {}
        #: (endpoint, differing paths) already re-checked and attributed → the rules blamed
        self._known: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    # -- on the request path: two cheap calls -------------------------------------------------

    def capturing(self, send: Send, scope: dict[str, Any]) -> Send:
        """``send`` itself, or — for a sampled request — ``send`` that keeps a copy of the
        upstream's (newer-version) answer for attribution."""
        if self.sample <= 0 or (self.sample < 1 and self.rng.random() >= self.sample):
            return send
        box: dict[str, Any] = {}
        scope[SCOPE_KEY] = box

        async def send_and_keep(req: Request) -> Response:
            resp = await send(req)
            if req.method == "GET" and getattr(resp, "stream", None) is None and resp.body is not None:
                box["upstream"] = Response(resp.status, dict(resp.headers),
                                           orjson.loads(orjson.dumps(resp.body)))
            return resp

        return send_and_keep

    def after(self, scope: dict[str, Any], outcome: Outcome, request_id: str | None) -> None:
        """Schedule the comparison once the client has its answer."""
        box = scope.get(SCOPE_KEY)
        plan = outcome.plan
        if box is None or plan is None or plan.passthrough or "upstream" not in box:
            return
        resp = outcome.response
        if not 200 <= resp.status < 300 or resp.body is None:
            return
        if len(self.tasks) >= self.max_inflight:
            self.metrics.child(self.metrics.verify, plan.endpoint or "other", "dropped").inc()
            return
        task = asyncio.get_running_loop().create_task(
            self._verify(plan, resp.body, box["upstream"], request_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- in the background --------------------------------------------------------------------

    async def _verify(self, plan: Plan, downgraded: Any, upstream: Response, rid: str | None) -> None:
        REQUEST_ID.set(rid)
        try:
            await self._compare(plan, downgraded, upstream, rid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a verification must never hurt the proxy
            endpoint = plan.endpoint or "other"
            self.metrics.child(self.metrics.verify, endpoint, "failed").inc()
            self.report({"endpoint": endpoint, "outcome": "failed",
                         "error": f"{type(exc).__name__}: {exc}"[:200]}, rid)

    async def _compare(self, plan: Plan, downgraded: Any, upstream: Response, rid: str | None) -> None:
        endpoint = plan.endpoint or "other"
        mt = self.metrics
        native_req = plan.original.copy(body=None, raw=None)
        try:
            native = await asyncio.wait_for(self.send(native_req), self.timeout)
        except Exception as exc:  # noqa: BLE001 - a verification must never hurt the proxy
            mt.child(mt.verify, endpoint, "failed").inc()
            self.report({"endpoint": endpoint, "outcome": "failed",
                         "error": f"{type(exc).__name__}: {exc}"[:200]}, rid)
            return
        if native.status != 200 or native.body is None:
            mt.child(mt.verify, endpoint, "failed").inc()
            self.report({"endpoint": endpoint, "outcome": "failed",
                         "error": f"native v1 read answered {native.status}"}, rid)
            return
        native_body = as_written(native.body, self.migrator.options.bots)
        ops = differences(native_body, downgraded)
        signature = (endpoint, tuple(sorted({op["path"] for op in ops})))
        known = self._known.get(signature) if ops else None
        if known is not None:  # the same difference again: counted, not re-investigated
            mt.child(mt.verify, endpoint, "different").inc()
            for rule in known:
                mt.child(mt.differences, endpoint, rule).inc()
            return
        if ops:
            # The resource may have changed between the client's read and this one: read both
            # versions again, back to back (a few times, in case writes are still landing); if
            # a pair matches, it was a concurrent write, not a translation difference.
            for attempt in range(RECHECKS):
                await asyncio.sleep(RECHECK_PAUSE * attempt)
                pair = await self._pair(plan)
                if pair is None:
                    break
                native_body, upstream, fresh = pair
                ops_now = differences(native_body, fresh)
                if not ops_now:
                    mt.child(mt.verify, endpoint, "changed").inc()
                    return
                ops = ops_now
        if not ops:
            mt.child(mt.verify, endpoint, "same").inc()
            return
        mt.child(mt.verify, endpoint, "different").inc()
        blamed = self.attribute(plan, upstream, native_body, ops)
        if len(self._known) >= KNOWN_SIGNATURES:
            self._known.clear()
        self._known[signature] = blamed
        for rule in blamed:
            mt.child(mt.differences, endpoint, rule).inc()
        self.report({"endpoint": endpoint, "outcome": "different", "rules": blamed,
                     "path": plan.original.route_path, "client_version": plan.client_version,
                     "differences": len(ops), "example": ops[:EXAMPLE_OPS]}, rid)

    async def _pair(self, plan: Plan) -> tuple[Any, Response, Any] | None:
        """(native v1 body as written, newer-version answer, its translation), read now."""
        try:
            native = await asyncio.wait_for(self.send(plan.original.copy(body=None, raw=None)),
                                            self.timeout)
            resp = await asyncio.wait_for(self.send(plan.request.copy()), self.timeout)
            if native.status != 200 or native.body is None or resp.status != 200 or resp.body is None:
                return None
            kept = Response(resp.status, dict(resp.headers), orjson.loads(orjson.dumps(resp.body)))
            out = self.migrator.engine.translate_response(
                plan.original, resp, source=self.upstream_version, to=plan.client_version,
                options=self.migrator.options).response
            return as_written(native.body, self.migrator.options.bots), kept, out.body
        except Exception:  # noqa: BLE001 - no second opinion; the first comparison stands
            return None

    def attribute(self, plan: Plan, upstream: Response, native: Any,
                  ops: list[dict[str, Any]]) -> list[str]:
        """Response rules whose removal makes some of ``ops`` disappear (else ``unattributed``)."""
        paths = {op["path"] for op in ops}
        blamed: list[str] = []
        for rule_id in plan.response_applied or plan.applied:
            engine = self._engine_without(rule_id)
            if engine is None:
                continue
            try:
                again = engine.translate_response(
                    plan.original, upstream.copy(body=orjson.loads(orjson.dumps(upstream.body))),
                    source=self.upstream_version, to=plan.client_version,
                    options=self.migrator.options).response
            except Exception:  # noqa: BLE001 - the rule may be needed for the answer to translate
                continue
            remaining = {op["path"] for op in differences(native, again.body)}
            if paths - remaining:
                blamed.append(rule_id)
        return blamed or ["unattributed"]

    def _engine_without(self, rule_id: str) -> Any:
        if rule_id not in self._without:
            base = engine_of(self.migrator.engine)
            rules = [r for r in base.rules if r.id != rule_id]
            from ..engine import Engine

            self._without[rule_id] = Engine(rules) if len(rules) < len(base.rules) else None
        return self._without[rule_id]

    async def close(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
