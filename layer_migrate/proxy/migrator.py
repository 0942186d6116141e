"""The decisions of one exchange, without I/O: :class:`Migrator` and the values it hands around.

:mod:`.flow` sequences these decisions (translate request → prerequisites → send → retry →
translate response → response-side prerequisites); this module only answers questions: what
does this client request become (:meth:`Migrator.plan`), may this attempt be repeated
(:meth:`Migrator.may_retry`), which request fulfils that prerequisite, what does the client get
back (:meth:`Migrator.finish`). Nothing here sends, sleeps or waits, so the proxy and the
in-process faces cannot disagree about any of it.

The translation engine is injected (``Migrator(engine=...)`` or ``rules=[dir, ...]``) rather
than read from a module global, so a user rule folder works for every face, not only for
``layer-migrate translate``.

Retry rule ("nothing lost, nothing duplicated"): an attempt that failed *before* the request was
written (connect refused) may always be repeated; one that may have reached the upstream is
repeated only when repeating cannot duplicate anything — idempotent methods, and creates that carry
``If-None-Match`` de-duplication (spec §1.6), which the migrator adds to creates when
``add_dedupe`` is on (R07: only on the final create, never on prerequisites).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson

from ..errors import LayerError
from ..exchange import Request, Response
from ..identity import BotDirectory
from ..versions import PLATFORM_MEDIA_TYPE, WEBHOOKS_MEDIA_TYPE, check_version
from .config import DEDUPE_ENDPOINTS
from .http import parse_request_body

if TYPE_CHECKING:
    from ..engine import Engine
    from ..options import Options
    from ..prerequisites import Prerequisite
    from ..results import WebhookTranslation

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
    if failure.kind == "pool":
        return LayerError("service_unavailable", "The migration proxy has no upstream connection free.",
                          status=503, data={"upstream": "pool"}, headers={"retry-after": "1"})
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


def _is_webhooks(endpoint: str | None) -> bool:
    return endpoint is not None and endpoint.startswith("webhooks.")


def load_engine(rules: Iterable[str | Path]) -> Engine:
    """An engine over the built-in rules plus the rule folders ``rules`` (loaded now, so a broken
    rule file fails where the face is built — ``RulebookError``, a ``ValueError`` saying
    ``file:line: reason`` — and never on the first request)."""
    from ..engine import Engine
    from ..rulebook import load_rulebook

    return Engine(load_rulebook(list(rules)))


@dataclass  # no slots: the in-process recorder tags plans (inprocess/record.py)
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
    #: what the last response translation asks to fulfil before repeating the request (R10)
    needs: list[Any] = field(default_factory=list)
    #: the rules the answer's translation applied (also in ``applied``), for metrics by side
    response_applied: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Outcome:
    """The answer for the client plus what happened, for logs and metrics."""

    response: Response
    plan: Plan | None
    attempts: int = 0
    upstream_seconds: float = 0.0
    error: str | None = None


class Flight:
    """One prerequisite being fulfilled right now; other exchanges wait for it to land.

    Waitable from threads (:meth:`wait`) and from any event loop (:meth:`wait_async`) alike, so
    the sync and async faces of one migrator share one single-flight. Waits are bounded, and a
    thread never waits for a flight its own thread owns (a blocking call made inside the event
    loop that owns it would otherwise wait forever): the waiter then fulfils the prerequisite
    itself — harmless, since fulfilment is idempotent upstream.
    """

    __slots__ = ("_event", "_lock", "_waiters", "owner")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        #: the thread that fulfils it (an event loop's thread for an async exchange)
        self.owner = threading.get_ident()

    def land(self) -> None:
        with self._lock:
            self._event.set()
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            loop.call_soon_threadsafe(_resolve, fut)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until landed (True) or ``timeout`` / the owner is this thread (False)."""
        if self.owner == threading.get_ident() and not self._event.is_set():
            return False
        return self._event.wait(timeout)

    async def wait_async(self, timeout: float | None = None) -> bool:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._event.is_set():
                return True
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return False
        return True


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():  # the waiter may have been cancelled meanwhile
        fut.set_result(None)


class PrerequisiteCache:
    """Fulfilled prerequisites, shared by every request of one migrator (one process).

    Fulfilment is idempotent upstream (201 created, 409 already exists — both count), so several
    worker processes need no coordination: the worst case is one extra 409 per worker. Inside a
    process concurrent requests needing the same prerequisite wait for one in-flight fulfilment
    (:class:`Flight`: single-flight for asyncio tasks and threads alike).
    """

    def __init__(self) -> None:
        self.done: set[Any] = set()
        self._inflight: dict[Any, Flight] = {}
        self._guard = threading.Lock()
        self.created = 0
        self.existing = 0

    def begin(self, key: Any) -> tuple[bool, Flight]:
        """(True, flight) when the caller now fulfils ``key``; (False, flight) to wait for."""
        with self._guard:
            flight = self._inflight.get(key)
            if flight is not None:
                return False, flight
            flight = self._inflight[key] = Flight()
            return True, flight

    def end(self, key: Any, flight: Flight | None, status: int | None) -> None:
        """The fulfilment of ``key`` finished: upstream ``status`` (None: it failed earlier).
        ``flight``: the one this caller began (None: it fulfilled ``key`` without one)."""
        with self._guard:
            if status is not None and (200 <= status < 300 or status == 409):
                self.done.add(key)
                if status == 409:
                    self.existing += 1
                else:
                    self.created += 1
            if flight is not None and self._inflight.get(key) is flight:
                del self._inflight[key]
        if flight is not None:
            flight.land()

    def forget(self, key: Any) -> None:
        """Drop ``key`` from :attr:`done`: the upstream said it no longer holds (R10: a 404)."""
        with self._guard:
            self.done.discard(key)


class Migrator:
    """The I/O-free half of the exchange: every decision the flow (:mod:`.flow`) sequences.

    ``engine``: the translation engine to use (default: the built-in rulebook's); ``rules``: rule
    folders to load on top of the built-in rules instead (ignored when ``engine`` is given);
    ``retries`` extra attempts, ``backoff * n`` seconds before attempt n+1.
    """

    def __init__(
        self,
        upstream_version: str = "3.0",
        *,
        options: Options | None = None,
        bots: BotDirectory | None = None,
        add_dedupe: bool = True,
        retries: int = 2,
        report_only: bool = False,
        engine_options: dict[str, Any] | None = None,
        engine: Engine | None = None,
        rules: Iterable[str | Path] = (),
        backoff: float = 0.05,
    ) -> None:
        self.upstream_version = check_version(upstream_version)
        self._options = options
        self._bots = bots
        self._engine_options = dict(engine_options or {})
        rules = tuple(rules)
        self._engine: Engine | None = engine if engine is not None else (load_engine(rules) if rules else None)
        #: Accept value → the client version it names outside ``webhooks.*`` endpoints
        self._accept_cache: dict[str, str] = {}
        self.add_dedupe = add_dedupe
        self.retries = max(0, retries)
        #: seconds before attempt n+1 = ``backoff * n``
        self.backoff = max(0.0, backoff)
        #: longest wait for another exchange's fulfilment of the same prerequisite, after which
        #: this exchange fulfils it itself (idempotent upstream: 201 or 409)
        self.prerequisite_wait = 30.0
        self.report_only = report_only
        self.prereqs = PrerequisiteCache()

    @property
    def engine(self) -> Engine:
        """The translation engine; the default one is compiled on first use (pass-through never
        needs it)."""
        if self._engine is None:
            from ..engine import default_engine

            self._engine = default_engine()
        return self._engine

    @property
    def options(self) -> Options:
        if self._options is None:
            from ..options import Options

            kwargs = dict(self._engine_options)
            if self._bots is not None:
                kwargs["bots"] = self._bots
            self._options = Options(**kwargs)
        return self._options

    # -- request side -------------------------------------------------------------------------

    def route(self, req: Request) -> tuple[str | None, dict[str, str]]:
        """(endpoint, params) of ``req`` — resolved once per request by the engine, whose own
        translate calls then read the same memoised entry."""
        return self.engine.route(req.method, req.path, req.headers)

    def client_version(self, req: Request, endpoint: str | None = None) -> str:
        """The client's version (engine ``detect_version``); ``endpoint`` when already resolved.

        Memoised per Accept value: a Platform media type Accept names the same version on every
        endpoint, except that ``webhooks.*`` endpoints read ``1.1`` as 1.0 (§12.4) — so the memo
        holds the non-webhooks version and :meth:`_memo_version` applies that one exception.
        Accept values that also name the webhooks media type are never memoised.
        """
        if endpoint is None:
            endpoint = self.route(req)[0]
        accept = req.headers.get("accept")
        if accept is not None:
            hit = self._memo_version(accept, endpoint)
            if hit is not None:
                return hit
        from ..engine import detect_version

        v = detect_version(req, endpoint)
        if (accept is not None and len(self._accept_cache) < 256 and not _is_webhooks(endpoint)
                and PLATFORM_MEDIA_TYPE in (low := accept.lower()) and WEBHOOKS_MEDIA_TYPE not in low):
            self._accept_cache[accept] = v
        return v

    def _memo_version(self, accept: str, endpoint: str | None) -> str | None:
        v = self._accept_cache.get(accept)
        if v == "1.1" and _is_webhooks(endpoint):
            return "1.0"
        return v

    def _is_passthrough(self, req: Request) -> bool:
        """Hot path: a memoised Accept naming the upstream version passes through without
        routing (2.0/3.0 read the same on every endpoint)."""
        accept = req.headers.get("accept")
        return accept is not None and self._accept_cache.get(accept) == self.upstream_version

    def plan(self, req: Request) -> Plan:
        """Translate ``req`` for the upstream. Raises LayerError for refusals (answer as-is).

        ``req`` may arrive with its body still in ``raw``: the body is parsed here, once, and
        only when the request is translated (pass-through bytes are forwarded untouched).
        """
        if not self.report_only and self._is_passthrough(req):
            return Plan(req, self.upstream_version, req, passthrough=True,
                        retryable=self._repeatable_as_is(req, None))
        endpoint, _ = self.route(req)
        version = self.client_version(req, endpoint)
        if self.report_only:
            return self._report_plan(req, version, endpoint)
        if version == self.upstream_version:
            return Plan(req, version, req, passthrough=True,
                        retryable=self._repeatable_as_is(req, endpoint))
        if req.body is None and req.raw:
            req.body, req.raw = parse_request_body(req.headers, req.raw, endpoint is not None)
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

    def _report_plan(self, req: Request, version: str, endpoint: str | None) -> Plan:
        """Report-only: forward unchanged; translate a parsed copy only to learn which rules the
        request would need."""
        plan = Plan(req, version, req, passthrough=True, retryable=self._repeatable_as_is(req, endpoint))
        if version == self.upstream_version:
            return plan
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
        return plan

    def _repeatable_as_is(self, req: Request, endpoint: str | None) -> bool:
        """An untranslated request may be repeated: idempotent, or a create the client itself made
        de-duplicable with ``If-None-Match`` (never added to pass-through traffic)."""
        if req.method in IDEMPOTENT:
            return True
        if req.method == "POST" and "if-none-match" in req.headers:
            if endpoint is None:
                endpoint = self.route(req)[0]
            return endpoint in DEDUPE_ENDPOINTS
        return False

    def may_retry(self, plan: Plan, attempt: int, failure: UpstreamFailure | None,
                  status: int | None = None) -> bool:
        """Whether attempt number ``attempt`` (1-based) of ``plan.request`` may be followed by another."""
        return self.may_repeat(plan.retryable, attempt, failure, status)

    def may_repeat(self, retryable: bool, attempt: int, failure: UpstreamFailure | None,
                   status: int | None = None) -> bool:
        """:meth:`may_retry` for any request: ``retryable`` = repeating it cannot duplicate anything."""
        if attempt > self.retries:
            return False
        if failure is not None:
            if failure.kind in ("tls", "pool"):
                return False  # an untrusted certificate stays untrusted; a full pool stays full
            return not failure.sent or retryable
        return status in RETRY_STATUSES and retryable

    # -- prerequisites --------------------------------------------------------------------------

    def prerequisite_request(self, prereq: Prerequisite, plan: Plan) -> Request:
        # The path segment is still percent-encoded; build_path encodes the decoded id once.
        app = unquote(app_id_of(plan.original.path) or "")
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

    @staticmethod
    def prerequisite_result(prereq: Any, resp: Response) -> LayerError | None:
        """None when ``resp`` fulfils ``prereq`` (201/2xx or 409); else the error for the client."""
        if 200 <= resp.status < 300 or resp.status == 409:
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
        """Translate the upstream answer back to the client's version.

        The prerequisites the response translation asks for land in ``plan.needs`` (R10
        ``autocreate_users``: fulfil them, then repeat the request). This is the one response-side
        hook the flow calls, so a subclass that wraps it sees every answer.
        """
        if plan.passthrough or getattr(resp, "stream", None) is not None:
            plan.needs = []
            return resp  # untouched, or a non-JSON body streamed unchanged
        r = self.engine.translate_response(plan.original, resp, source=self.upstream_version,
                                           to=plan.client_version, options=self.options)
        # The access log, report and metrics name every rule the exchange needed, both ways.
        # (Hot path: a GET's request side usually applied nothing, so take the lists as they are.)
        if r.applied:
            plan.response_applied = list(r.applied)
            if plan.applied:
                plan.applied.extend(rule for rule in r.applied if rule not in plan.applied)
            else:
                plan.applied = list(r.applied)
        if r.lossy:
            if plan.lossy:
                plan.lossy.extend(note for note in r.lossy if note not in plan.lossy)
            else:
                plan.lossy = list(r.lossy)
        plan.needs = list(r.prerequisites) if r.prerequisites else []
        return r.response

    def translate_back(self, plan: Plan, resp: Response) -> tuple[Response, list[Prerequisite]]:
        """:meth:`finish` and the prerequisites it asked for, as one value."""
        out = self.finish(plan, resp)
        return out, plan.needs

    def translate_webhook(self, event_type: str, body: Any, source: str, to: str = "1.0",
                          options: Options | None = None) -> WebhookTranslation:
        """One webhook delivery through this migrator's engine (the relay's translation)."""
        return self.engine.translate_webhook(event_type, body, source, to, options or self.options)
