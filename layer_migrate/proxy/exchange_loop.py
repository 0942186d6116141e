"""The one exchange loop behind all three faces (proxy, httpx transport, requests adapter).

translate request → fulfil prerequisites → send → translate response.

The decisions (which version the client speaks, what to send, whether a failed attempt may be
repeated, how to answer) are made here without I/O by :class:`Migrator`; the two drivers
:func:`run_async` and :func:`run_sync` only add the sending, so the proxy (aiohttp), the httpx
transport and the requests adapter cannot drift apart.

Retry rule ("nothing lost, nothing duplicated"): an attempt that failed *before* the request was
written (connect refused) may always be repeated; one that may have reached the upstream is
repeated only when repeating cannot duplicate anything — idempotent methods, and creates that carry
``If-None-Match`` de-duplication (spec §1.6), which the migrator adds to creates when
``add_dedupe`` is on (R07: only on the final create, never on prerequisites).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import LayerError
from ..exchange import Request, Response
from ..identity import BotDirectory
from ..versions import PLATFORM_MEDIA_TYPE, check_version
from .config import DEDUPE_ENDPOINTS

JSON_CT = "application/json; charset=UTF-8"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Upstream statuses worth another attempt when the request is safe to repeat.
RETRY_STATUSES = frozenset({502, 503, 504})


class UpstreamFailure(Exception):
    """The upstream could not be reached or did not answer.

    ``kind``: ``connect`` / ``connect_timeout`` (nothing was sent — always safe to retry),
    ``tls`` (the upstream's certificate was not trusted: nothing was sent, and retrying cannot
    help), ``timeout`` or ``reset`` (the request may have reached the upstream).
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail

    @property
    def sent(self) -> bool:
        return self.kind not in ("connect", "connect_timeout", "tls")


def error_response(err: LayerError) -> Response:
    """A LayerError as the response a client receives (status, headers, Layer error body)."""
    headers = {"content-type": JSON_CT}
    headers.update({k.lower(): v for k, v in err.headers.items()})
    return Response(err.status, headers, err.to_json())


def upstream_error(failure: UpstreamFailure) -> LayerError:
    """502 for an unreachable/resetting upstream, 504 for a timeout (both Layer errors)."""
    if failure.kind in ("timeout", "connect_timeout"):
        return LayerError("request_timeout", "The upstream Layer API did not answer in time.",
                          status=504, data={"upstream": "timeout"})
    if failure.kind == "tls":
        return LayerError("service_unavailable",
                          "The upstream Layer API's TLS certificate could not be verified.",
                          status=502, data={"upstream": "tls"})
    return LayerError("service_unavailable", "The upstream Layer API could not be reached.",
                      status=502, data={"upstream": failure.kind})


def app_id_of(path: str) -> str | None:
    """The ``:app`` segment of a Platform path (``/apps/<app>/...``)."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) >= 3 and parts[1] == "apps" and parts[2]:
        return parts[2]
    return None


@dataclass
class Plan:
    """What one client request turns into."""

    original: Request
    client_version: str
    request: Request
    prerequisites: list[Any] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    lossy: list[str] = field(default_factory=list)
    endpoint: str | None = None
    passthrough: bool = False
    retryable: bool = False
    #: a proxy-made dedupe id (not the client's)
    dedupe_added: bool = False
    #: the rules the answer's translation applied (also in ``applied``), for metrics by side
    response_applied: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """The answer for the client plus what happened, for logs and metrics."""

    response: Response
    plan: Plan | None
    attempts: int = 0
    upstream_seconds: float = 0.0
    error: str | None = None


class PrerequisiteCache:
    """Fulfilled prerequisites, shared by every request of one process.

    Fulfilment is idempotent upstream (201 created, 409 already exists — both count), so several
    worker processes need no coordination: the worst case is one extra 409 per worker. Inside a
    process concurrent requests needing the same bot wait for one in-flight creation
    (single-flight), for asyncio and threads alike.
    """

    def __init__(self) -> None:
        self.done: set[Any] = set()
        self._inflight: dict[Any, asyncio.Future[None]] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()
        self.created = 0
        self.existing = 0

    def lock_for(self, key: Any) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock


class Migrator:
    """The I/O-free half of the exchange loop."""

    def __init__(
        self,
        upstream_version: str = "3.0",
        *,
        options: Any = None,
        bots: BotDirectory | None = None,
        add_dedupe: bool = True,
        retries: int = 2,
        report_only: bool = False,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        self.upstream_version = check_version(upstream_version)
        self._options = options
        self._bots = bots
        self._engine_options = dict(engine_options or {})
        self._engine: Any = None
        self._accept_cache: dict[str, str] = {}
        self.add_dedupe = add_dedupe
        self.retries = max(0, retries)
        self.report_only = report_only
        self.prereqs = PrerequisiteCache()

    @property
    def engine(self) -> Any:
        """The translation engine, imported on first use (pass-through never needs it)."""
        if self._engine is None:
            from .. import engine

            self._engine = engine
        return self._engine

    @property
    def options(self) -> Any:
        if self._options is None:
            kwargs = dict(self._engine_options)
            if self._bots is not None:
                kwargs["bots"] = self._bots
            self._options = self.engine.Options(**kwargs)
        return self._options

    # -- request side -------------------------------------------------------------------------

    def client_version(self, req: Request) -> str:
        """The client's version (engine ``detect_version``), memoised per Accept value.

        A Platform media type Accept decides the version on its own (R04/§1.2), whatever the
        endpoint, so the hot path skips route matching for the few distinct Accept strings a
        fleet of clients sends; anything else (no Accept, webhooks media type) asks the engine.
        """
        accept = req.headers.get("accept")
        if accept is not None:
            v = self._accept_cache.get(accept)
            if v is not None:
                return v
        v = self.engine.detect_version(req)
        if accept is not None and PLATFORM_MEDIA_TYPE in accept.lower() and len(self._accept_cache) < 256:
            self._accept_cache[accept] = v
        return v

    def plan(self, req: Request) -> Plan:
        """Translate ``req`` for the upstream. Raises LayerError for refusals (answer as-is)."""
        version = self.client_version(req)
        if self.report_only:
            # Forward unchanged; translate only to learn which rules the request would need.
            plan = Plan(req, version, req, passthrough=True)
            if version != self.upstream_version:
                probe = req
                if req.body is None and req.raw:
                    try:  # analyse the parsed body; the raw bytes are what is forwarded
                        probe = req.copy(body=orjson.loads(req.raw), raw=None)
                    except orjson.JSONDecodeError:
                        pass
                try:
                    t = self.engine.translate_request(probe, to=self.upstream_version, source=version,
                                                      options=self.options)
                    plan.applied, plan.lossy, plan.endpoint = list(t.applied), list(t.lossy), t.endpoint
                    plan.prerequisites = list(t.prerequisites)
                except LayerError as exc:
                    plan.lossy = [f"refused: {exc.id}: {exc.message}"]
            plan.retryable = _repeatable_as_is(req)
            return plan
        if version == self.upstream_version:
            plan = Plan(req, version, req, passthrough=True)
            plan.retryable = _repeatable_as_is(req)
            return plan
        t = self.engine.translate_request(req, to=self.upstream_version, source=version,
                                          options=self.options)
        out = t.request
        plan = Plan(req, version, out, list(t.prerequisites), list(t.applied), list(t.lossy), t.endpoint)
        if t.endpoint in DEDUPE_ENDPOINTS and out.method == "POST":
            if "if-none-match" not in out.headers and self.add_dedupe:
                out.headers["if-none-match"] = str(uuid.uuid4())
                plan.dedupe_added = True
            plan.retryable = "if-none-match" in out.headers
        else:
            plan.retryable = out.method in IDEMPOTENT
        return plan

    def may_retry(self, plan: Plan, attempt: int, failure: UpstreamFailure | None,
                  status: int | None = None) -> bool:
        """Whether attempt number ``attempt`` (1-based) may be followed by another."""
        if attempt > self.retries:
            return False
        if failure is not None:
            if failure.kind == "tls":
                return False  # an untrusted certificate stays untrusted
            return not failure.sent or plan.retryable
        return status in RETRY_STATUSES and plan.retryable

    # -- prerequisites --------------------------------------------------------------------------

    def prerequisite_request(self, prereq: Any, plan: Plan) -> Request:
        app = app_id_of(plan.original.path) or ""
        r = prereq.to_request(app, self.upstream_version, self.options)
        for h in ("authorization",):
            if h in plan.original.headers and h not in r.headers:
                r.headers[h] = plan.original.headers[h]
        r.headers.setdefault("accept", f"{PLATFORM_MEDIA_TYPE}; version={self.upstream_version}")
        r.headers.setdefault("content-type", "application/json")
        return r

    @staticmethod
    def prerequisite_key(prereq: Any, plan: Plan) -> Any:
        return (app_id_of(plan.original.path), getattr(prereq, "key", repr(prereq)))

    def prerequisite_result(self, prereq: Any, resp: Response) -> LayerError | None:
        """None when ``resp`` fulfils ``prereq`` (201/2xx or 409); else the error for the client."""
        if 200 <= resp.status < 300:
            self.prereqs.created += 1
            return None
        if resp.status == 409:
            self.prereqs.existing += 1
            return None
        body = resp.body if isinstance(resp.body, dict) else {}
        return LayerError(
            str(body.get("id") or "internal_server_error"),
            f"Could not provision {getattr(prereq, 'key', prereq)!r} upstream: "
            f"{body.get('message') or resp.status}",
            status=resp.status if resp.status >= 400 else 502,
            data={"prerequisite": str(getattr(prereq, "key", prereq))},
        )

    # -- response side -------------------------------------------------------------------------

    def finish(self, plan: Plan, resp: Response) -> Response:
        """Translate the upstream answer back to the client's version."""
        if plan.passthrough or getattr(resp, "stream", None) is not None:
            return resp  # untouched, or a non-JSON body streamed unchanged
        r = self.engine.translate_response(plan.original, resp, source=self.upstream_version,
                                           to=plan.client_version, options=self.options)
        # The access log, report and metrics name every rule the exchange needed, both ways.
        if r.applied:
            plan.response_applied = list(r.applied)
            plan.applied.extend(rule for rule in r.applied if rule not in plan.applied)
        if r.lossy:
            plan.lossy.extend(note for note in r.lossy if note not in plan.lossy)
        return r.response


def _repeatable_as_is(req: Request) -> bool:
    """An untranslated request may be repeated: idempotent, or a create the client itself made
    de-duplicable with ``If-None-Match`` (the proxy never adds one to pass-through traffic)."""
    if req.method in IDEMPOTENT:
        return True
    if req.method == "POST" and "if-none-match" in req.headers:
        from .. import routes

        m = routes.match("POST", req.path)
        return m is not None and m.name in DEDUPE_ENDPOINTS
    return False


# ---------------------------------------------------------------------------------------------
# Drivers: the same loop, awaited or called.

AsyncSend = Callable[[Request], Awaitable[Response]]
SyncSend = Callable[[Request], Response]


async def _fulfil_async(m: Migrator, plan: Plan, send: AsyncSend) -> LayerError | None:
    cache = m.prereqs
    for prereq in plan.prerequisites:
        key = m.prerequisite_key(prereq, plan)
        while key not in cache.done:
            pending = cache._inflight.get(key)
            if pending is not None:
                await asyncio.shield(pending)
                continue
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            cache._inflight[key] = fut
            try:
                preq = m.prerequisite_request(prereq, plan)
                attempt = 0
                while True:
                    attempt += 1
                    try:
                        resp = await send(preq)
                    except UpstreamFailure as failure:  # identity create is idempotent (201/409)
                        if attempt <= m.retries and failure.kind != "tls":
                            await asyncio.sleep(0.05 * attempt)
                            continue
                        return upstream_error(failure)
                    if resp.status in RETRY_STATUSES and attempt <= m.retries:
                        continue
                    break
                err = m.prerequisite_result(prereq, resp)
                if err is not None:
                    return err
                cache.done.add(key)
            finally:
                cache._inflight.pop(key, None)
                if not fut.done():
                    fut.set_result(None)
    return None


def _fulfil_sync(m: Migrator, plan: Plan, send: SyncSend) -> LayerError | None:
    cache = m.prereqs
    for prereq in plan.prerequisites:
        key = m.prerequisite_key(prereq, plan)
        if key in cache.done:
            continue
        with cache.lock_for(key):
            if key in cache.done:
                continue
            preq = m.prerequisite_request(prereq, plan)
            attempt = 0
            while True:
                attempt += 1
                try:
                    resp = send(preq)
                except UpstreamFailure as failure:
                    if attempt <= m.retries and failure.kind != "tls":
                        time.sleep(0.05 * attempt)
                        continue
                    return upstream_error(failure)
                if resp.status in RETRY_STATUSES and attempt <= m.retries:
                    continue
                break
            err = m.prerequisite_result(prereq, resp)
            if err is not None:
                return err
            cache.done.add(key)
    return None


async def run_async(m: Migrator, req: Request, send: AsyncSend, backoff: float = 0.05) -> Outcome:
    """One client request through the loop, with an async ``send`` (raises UpstreamFailure)."""
    try:
        plan = m.plan(req)
    except LayerError as exc:
        return Outcome(error_response(exc), None, error=f"refused: {exc.id}")
    err = await _fulfil_async(m, plan, send) if plan.prerequisites and not m.report_only else None
    if err is not None:
        return Outcome(error_response(err), plan, error=f"prerequisite: {err.id}")
    attempt = 0
    spent = 0.0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            resp = await send(plan.request)
        except UpstreamFailure as failure:
            spent += time.perf_counter() - started
            if m.may_retry(plan, attempt, failure):
                await asyncio.sleep(backoff * attempt)
                continue
            return Outcome(error_response(upstream_error(failure)), plan, attempt, spent,
                           error=f"upstream: {failure.kind}")
        spent += time.perf_counter() - started
        if m.may_retry(plan, attempt, None, resp.status):
            release = getattr(resp, "release", None)
            if release is not None:
                release()
            await asyncio.sleep(backoff * attempt)
            continue
        break
    try:
        out = m.finish(plan, resp)
    except LayerError as exc:
        return Outcome(error_response(exc), plan, attempt, spent, error=f"response: {exc.id}")
    return Outcome(out, plan, attempt, spent)


def run_sync(m: Migrator, req: Request, send: SyncSend, backoff: float = 0.05) -> Outcome:
    """:func:`run_async` for blocking clients (httpx.Client, requests)."""
    try:
        plan = m.plan(req)
    except LayerError as exc:
        return Outcome(error_response(exc), None, error=f"refused: {exc.id}")
    err = _fulfil_sync(m, plan, send) if plan.prerequisites and not m.report_only else None
    if err is not None:
        return Outcome(error_response(err), plan, error=f"prerequisite: {err.id}")
    attempt = 0
    spent = 0.0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            resp = send(plan.request)
        except UpstreamFailure as failure:
            spent += time.perf_counter() - started
            if m.may_retry(plan, attempt, failure):
                time.sleep(backoff * attempt)
                continue
            return Outcome(error_response(upstream_error(failure)), plan, attempt, spent,
                           error=f"upstream: {failure.kind}")
        spent += time.perf_counter() - started
        if m.may_retry(plan, attempt, None, resp.status):
            time.sleep(backoff * attempt)
            continue
        break
    try:
        out = m.finish(plan, resp)
    except LayerError as exc:
        return Outcome(error_response(exc), plan, attempt, spent, error=f"response: {exc.id}")
    return Outcome(out, plan, attempt, spent)
