"""The chain: an :class:`Engine` compiles the rulebook into pipelines and runs them.

Rules are chained per version step (spec §14 legend): upgrades walk 1.0 → 1.1 → 2.0 → 3.0,
downgrades walk back. Within a step rules run in spec order going up and in reverse going down.
A pipeline (the callables for one endpoint, version pair and direction) is compiled once and
kept, so the proxy's hot path pays only for the rules that concern the request; objects are
rebuilt copy-on-write along the touched keys only (no deep copies). A plan, cached per (method,
path, Accept, versions), fixes everything else a call would otherwise look up again: the steps to
run (body facts unrolled into the loop), the Context's perspective, an R38/R39 rewrite's target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .. import routes
from ..errors import invalid_request
from ..exchange import Request, Response
from ..facts import FieldFact, MediaTypeFact, PatchOpFact, RouteFact, WebhookFact, WebhookPart
from ..options import Options
from ..results import PayloadTranslation, ResponseTranslation, Translation, WebhookTranslation
from ..rulebook import (
    ALL_STEPS,
    OBJECT_KINDS,
    OBJECT_LOCATIONS,
    Context,
    Rule,
    Step,
    Way,
    load_rulebook,
)
from ..rulebook.context import perspective_of
from ..versions import VERSIONS, steps_between
from .cache import Memo
from .deliveries import translate_delivery
from .interpret import (
    ReqFn,
    RouteRewrite,
    body_hook,
    body_phase,
    compile_field_fact,
    compile_patch_fact,
    content_type_phase,
    fold_accept,
    is_webhooks_endpoint,
    media_type_hook,
    route_hook,
    status_hook,
)
from .negotiation import CHECKED, checked_version, version_from_accept

__all__ = ["DEFAULT_OPTIONS", "Engine"]

ObjFn = Callable[[Any, Context], Any]
Pipeline = tuple[tuple[Any, ReqFn], ...]
BodyFn = Callable[[Any, Context], Any]
#: A request plan's steps: (rule id, hook, None) or (rule id, None, body fn) — fused body phases
#: unrolled, so translate_request runs each body fact itself (see :func:`_unrolled`).
Steps = tuple[tuple[str, ReqFn | None, BodyFn | None], ...]
ObjPipeline = tuple[tuple[str, ObjFn, str | None], ...]  # (rule id, fn, its lossy line)

_context = Context.for_exchange
_new = object.__new__

#: The options used when a caller passes none (latest documented behaviour).
DEFAULT_OPTIONS = Options()


def _steps(source: str, target: str) -> list[Step]:
    """The steps crossed, in the order rules run (upgrade order up, reversed down)."""
    steps = steps_between(source, target)
    return steps if VERSIONS.index(source) <= VERSIONS.index(target) else steps[::-1]


def record(ctx: Context, rid: str, lossy_lines: dict[str, str]) -> None:
    """The one place a rule is reported: ``applied`` once, and its lossy line once. (The hot loops
    append to ``applied`` themselves and call this only for rules that have a lossy line.)"""
    if rid not in ctx.applied:
        ctx.applied.append(rid)
    text = lossy_lines.get(rid)
    if text is not None and text not in ctx.lossy:
        ctx.lossy.append(text)


def _tagged_body_hook(fn: Callable[[Any, Context], Any]) -> ReqFn:
    hook = body_hook(fn)
    hook.body_fn = fn  # type: ignore[attr-defined]  # lets _fuse_body_facts fuse neighbours
    return hook


def _fuse_body_facts(fns: list[tuple[Any, ReqFn]]) -> list[tuple[Any, ReqFn]]:
    """Runs of adjacent declared body facts → one :func:`body_phase` (order kept)."""
    out: list[tuple[Any, ReqFn]] = []
    run: list[tuple[str, Callable[[Any, Context], Any]]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append((run[0][0], _tagged_body_hook(run[0][1])))
        elif run:
            phase = body_phase(list(run))
            phase.body_fns = tuple(run)  # type: ignore[attr-defined]  # read by _unrolled
            out.append((None, phase))
        run.clear()

    for rid, fn in fns:
        body_fn = getattr(fn, "body_fn", None)
        if body_fn is not None and rid is not None:
            run.append((rid, body_fn))
        else:
            flush()
            out.append((rid, fn))
    flush()
    return out


def _unrolled(pipeline: Pipeline) -> Steps:
    """A request pipeline (Accept phase already folded into the plan) as plan steps: each body
    fact its own step. Running body facts in translate_request's loop spares the hot path a phase
    call and the tuple of changed ids it returns (measured ~5% of a message send); the facts run
    in the same order on the same body, and each changed one is reported as before."""
    out: list[tuple[str, ReqFn | None, BodyFn | None]] = []
    for rid, fn in pipeline:
        fused = getattr(fn, "body_fns", None)
        if fused is not None:
            out.extend((r, None, f) for r, f in fused)
            continue
        body_fn = getattr(fn, "body_fn", None)
        if rid is None:
            raise AssertionError(f"unlabelled request step {fn!r}")  # only fused phases are
        out.append((rid, None, body_fn) if body_fn is not None else (rid, fn, None))
    return tuple(out)


class RoutePlan(NamedTuple):
    """A request pipeline that is one RouteFact rewrite: decided at plan time but for the body."""

    rule: str
    rewrite: RouteRewrite
    method: str
    path: str
    endpoint: str
    content_type: str  # the rewritten call's Content-Type
    applied: tuple[str, ...]  # the Accept phase's rule ids, then ``rule``
    lossy: tuple[str, ...]  # ``rule``'s lossy line, if it has one


class RequestPlan(NamedTuple):
    """What a request's method, path, Accept and version arguments decide, computed once."""

    endpoint: str | None
    params: dict[str, str]
    source: str
    target: str
    accept: str | None  # the translated Accept value (None: unchanged)
    accept_rules: tuple[str, ...]  # the rule ids the Accept phase applied
    pipeline: Steps  # the rest of the request pipeline, unrolled
    route: RoutePlan | None = None  # set when the rest is exactly one RouteFact rewrite
    perspective: str = "system"  # Context.perspective of the endpoint, derived once


class ResponsePlan(NamedTuple):
    endpoint: str | None
    params: dict[str, str]
    source: str
    target: str
    pipeline: Pipeline
    objects: tuple[tuple[str, ObjPipeline], ...]  # (locator, object pipeline) per object kind
    perspective: str = "system"  # Context.perspective of the endpoint, derived once


UNKNOWN_ENDPOINT = "unknown endpoint: passed through"


class Engine:
    """A compiled rulebook. Use :func:`default_engine` unless you load extra rule folders."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self.rules = rules if rules is not None else load_rulebook()
        self.by_id = {r.id: r for r in self.rules}
        # compiled pipelines: keyed by (endpoint or kind, source, target), a finite set
        self._req: Memo[tuple[str | None, str, str], Pipeline] = Memo(1 << 16)
        self._res: Memo[tuple[str | None, str, str], Pipeline] = Memo(1 << 16)
        self._obj: Memo[tuple[str, str, str], ObjPipeline] = Memo(1 << 16)
        # client-chosen keys: bounded
        self._routes: Memo[tuple[str, str], tuple[str | None, dict[str, str]]] = Memo(4096)
        self._req_plans: Memo[tuple[Any, ...], RequestPlan] = Memo(4096)
        self._res_plans: Memo[tuple[Any, ...], ResponsePlan] = Memo(4096)
        #: rule id → its "lossy" line, reported whenever the rule applied
        self._lossy = {r.id: f"{r.id}: {r.lossy}" for r in self.rules if r.lossy}
        #: what the rules declare about webhook deliveries (R30, R50–R52), in rule order
        self.webhook_facts: tuple[WebhookFact, ...] = tuple(
            f for r in self.rules for f in r.facts if isinstance(f, WebhookFact))

    def report_lossy(self, ctx: Context) -> None:
        """Add the lossy line of every applied rule that has one (for callers that fill
        ``ctx.applied`` themselves, as webhook delivery translation does)."""
        lz, lossy = self._lossy, ctx.lossy
        for rid in ctx.applied:
            text = lz.get(rid)
            if text is not None and text not in lossy:
                lossy.append(text)

    def webhook_rule(self, part: WebhookPart, event_type: str | None = None) -> str | None:
        """The id of the rule declaring ``part`` of delivery translation (for ``event_type``, when
        the part lists events); None when no loaded rule declares it."""
        for f in self.webhook_facts:
            if f.part == part and (event_type is None or f.covers(event_type)):
                return f.rule
        return None

    def record(self, ctx: Context, rid: str) -> None:
        """Report rule ``rid`` as applied in ``ctx`` (and its lossy line)."""
        record(ctx, rid, self._lossy)

    def route(self, method: str, path: str, headers: dict[str, str]) -> tuple[str | None, dict[str, str]]:
        """(endpoint name, params) of a request, R06 override included; cached (params read-only)."""
        if method == "POST" and headers.get("x-http-method-override", "").upper() == "PATCH":
            method = "PATCH_OVERRIDE"
        key = (method, path)
        hit = self._routes.get(key)
        if hit is not None:
            return hit
        if method == "PATCH_OVERRIDE":
            m = routes.match("PATCH", path) or routes.match("POST", path)
        else:
            m = routes.match(method, path)
        return self._routes.put(key, (m.name, m.params) if m else (None, {}))

    # -- compilation --
    def _rules_for(self, source: str, target: str) -> list[tuple[Step, Rule]]:
        out: list[tuple[Step, Rule]] = []
        up = VERSIONS.index(source) <= VERSIONS.index(target)
        steps = _steps(source, target)
        if not steps:
            return out
        everywhere = sorted((r for r in self.rules if r.step == ALL_STEPS),
                            key=lambda r: (r.order, r.id), reverse=not up)
        if up:
            out.extend((steps[0], r) for r in everywhere)
        for step in steps:
            in_step = [r for r in self.rules if r.step == step]
            in_step.sort(key=lambda r: (r.order, r.id), reverse=not up)
            out.extend((step, r) for r in in_step)
        if not up:
            out.extend((steps[-1], r) for r in everywhere)
        return out

    @staticmethod
    def _concerns(rule: Rule, endpoints: frozenset[str], endpoint: str | None) -> bool:
        if "*" in endpoints:
            return True
        return endpoint is not None and endpoint in endpoints

    def request_pipeline(self, endpoint: str | None, source: str, target: str) -> Pipeline:
        key = (endpoint, source, target)
        cached = self._req.get(key)
        if cached is not None:
            return cached
        up = VERSIONS.index(source) <= VERSIONS.index(target)
        fns: list[tuple[Any, ReqFn]] = []
        accept: list[tuple[str, ReqFn, Step]] = []
        for step, rule in self._rules_for(source, target):
            for fact in rule.facts:
                fn = self._compile_request_fact(fact, rule, step, endpoint, up)
                if fn is not None:
                    if isinstance(fact, MediaTypeFact):
                        accept.append((rule.id, fn, step))
                    else:
                        fns.append((rule.id, fn))
            if self._concerns(rule, rule.endpoints, endpoint) or not rule.endpoints:
                for hook in rule.hooks["request_up" if up else "request_down"]:
                    if getattr(hook, "accept_only", False):
                        accept.append((rule.id, hook, step))
                    else:
                        fns.append((rule.id, hook))
        fns = _fuse_body_facts(fns)
        if accept:
            phase = fold_accept(accept)
            phase.folds_accept = True  # type: ignore[attr-defined]  # read by _request_plan
            fns.insert(0, (None, phase))
        return self._req.put(key, tuple(fns))

    def _compile_request_fact(self, fact: object, rule: Rule, step: Step, endpoint: str | None,
                              up: bool) -> ReqFn | None:
        if isinstance(fact, FieldFact) and fact.direction == "request":
            if endpoint in fact.endpoints:
                fn = compile_field_fact(fact, forward=up)
                return _tagged_body_hook(fn) if fn is not None else None
        elif isinstance(fact, PatchOpFact):
            if endpoint in fact.endpoints:
                return _tagged_body_hook(compile_patch_fact(fact, forward=up))
        elif isinstance(fact, MediaTypeFact):
            return media_type_hook(fact, step, up)
        elif isinstance(fact, RouteFact):
            if up and endpoint == fact.from_endpoint:
                return route_hook(fact)
        return None

    def response_pipeline(self, endpoint: str | None, source: str, target: str) -> Pipeline:
        """Hooks for a response of ``endpoint`` going from ``source`` (server) to ``target``."""
        key = (endpoint, source, target)
        cached = self._res.get(key)
        if cached is not None:
            return cached
        down = VERSIONS.index(source) >= VERSIONS.index(target)
        fns: list[tuple[str | None, ReqFn]] = []
        media: list[tuple[str, MediaTypeFact, Step]] = []
        for step, rule in self._rules_for(source, target):
            if down:
                for fact in rule.facts:
                    if isinstance(fact, RouteFact) and fact.status_map and endpoint == fact.from_endpoint:
                        fns.append((rule.id, status_hook(fact)))
                    elif isinstance(fact, MediaTypeFact):
                        media.append((rule.id, fact, step))
            if self._concerns(rule, rule.endpoints, endpoint) or not rule.endpoints:
                for hook in rule.hooks["response_down" if down else "response_up"]:
                    fns.append((rule.id, hook))
        if media:  # the answer carries the client's version (issue 16)
            fns.insert(0, (None, content_type_phase(media, is_webhooks_endpoint(endpoint))))
        return self._res.put(key, tuple(fns))

    def object_pipeline(self, kind: str, source: str, target: str) -> ObjPipeline:
        key = (kind, source, target)
        cached = self._obj.get(key)
        if cached is not None:
            return cached
        down = VERSIONS.index(source) >= VERSIONS.index(target)
        way: Way = "down" if down else "up"
        fns: list[tuple[str, ObjFn, str | None]] = []
        for _step, rule in self._rules_for(source, target):
            lossy = self._lossy.get(rule.id)  # resolved here, not per applied step in _run
            for k, fact in rule.object_facts:
                if k == kind:
                    fn = compile_field_fact(fact, forward=down)
                    if fn is not None:
                        fns.append((rule.id, fn, lossy))
            for hook in rule.object_hooks.get((kind, way), ()):
                fns.append((rule.id, hook, lossy))
        return self._obj.put(key, tuple(fns))

    # -- running --
    def run_object(self, kind: str, obj: Any, ctx: Context, source: str | None = None,
                   target: str | None = None) -> Any:
        """Translate one ``kind`` object with the context's versions (or those given)."""
        key = (kind, source or ctx.source, target or ctx.target)
        pipeline = self._obj.get(key)
        if pipeline is None:
            pipeline = self.object_pipeline(*key)
        return self._run(pipeline, obj, ctx)

    def _run(self, pipeline: ObjPipeline, obj: Any, ctx: Context) -> Any:
        applied = ctx.applied
        for rid, fn, lossy in pipeline:
            new = fn(obj, ctx)
            if new is not obj:
                obj = new
                if rid not in applied:  # record(), inlined: rid was just appended
                    applied.append(rid)
                    if lossy is not None and lossy not in ctx.lossy:
                        ctx.lossy.append(lossy)
        return obj

    def run_objects_at(self, endpoint: str | None, body: Any, ctx: Context) -> Any:
        for kind, loc in OBJECT_LOCATIONS.get(endpoint or "", ()):
            if loc == "":
                if isinstance(body, dict):
                    body = self.run_object(kind, body, ctx)
            elif loc == "[]":
                if isinstance(body, list):
                    items = [self.run_object(kind, o, ctx) if isinstance(o, dict) else o for o in body]
                    if any(a is not b for a, b in zip(items, body, strict=False)):
                        body = items
        return body

    # -- plans: everything a request's method, path, Accept and version arguments decide --
    def _request_plan(self, method: str, path: str, headers: dict[str, str], accept: str | None,
                      to: str, source: str | None) -> RequestPlan:
        target = CHECKED.get(to) or checked_version(to, "to")
        endpoint, params = self.route(method, path, headers)
        if source:
            src = CHECKED.get(source) or checked_version(source, "from")
        else:
            src = version_from_accept(accept, is_webhooks_endpoint(endpoint))
        if src == target:
            return RequestPlan(endpoint, params, src, target, None, (), ())
        pipeline = self.request_pipeline(endpoint, src, target)
        new_accept, accept_ids = None, ()
        if pipeline and getattr(pipeline[0][1], "folds_accept", False):  # fixed by this plan's key
            probe = Context(src, target, DEFAULT_OPTIONS, endpoint, params, self, method, path,
                            {"accept": accept} if accept is not None else {})
            accept_ids = tuple(pipeline[0][1](probe) or ())
            got = probe.headers.get("accept")
            new_accept = got if got is not None and got != accept else None
            pipeline = pipeline[1:]
        rewrite = getattr(pipeline[0][1], "rewrite", None) if len(pipeline) == 1 else None
        if isinstance(rewrite, RouteRewrite) and pipeline[0][0] is not None:
            rid = pipeline[0][0]
            route = RoutePlan(rid, rewrite, rewrite.fact.to_method, rewrite.target(path, params),
                              rewrite.fact.to_endpoint, rewrite.fact.content_type, (*accept_ids, rid),
                              (self._lossy[rid],) if rid in self._lossy else ())
            return RequestPlan(endpoint, params, src, target, new_accept, accept_ids, (), route)
        return RequestPlan(endpoint, params, src, target, new_accept, accept_ids, _unrolled(pipeline), None,
                           perspective_of(endpoint))

    def _response_plan(self, method: str, path: str, headers: dict[str, str], source: str,
                       to: str | None) -> ResponsePlan:
        src = CHECKED.get(source) or checked_version(source, "from")
        endpoint, params = self.route(method, path, headers)
        if to:
            target = CHECKED.get(to) or checked_version(to, "to")
        else:
            target = version_from_accept(headers.get("accept"), is_webhooks_endpoint(endpoint))
        if src == target:
            return ResponsePlan(endpoint, params, src, target, (), ())
        objects = tuple((loc, self.object_pipeline(kind, src, target))
                        for kind, loc in OBJECT_LOCATIONS.get(endpoint or "", ()))
        return ResponsePlan(endpoint, params, src, target, self.response_pipeline(endpoint, src, target),
                            objects, perspective_of(endpoint))

    # -- translating --
    def translate_request(self, request: Request, to: str, source: str | None = None,
                          options: Options | None = None) -> Translation:
        if options is None:
            options = DEFAULT_OPTIONS
        headers = request.headers
        method, path = request.method, request.path
        accept = headers.get("accept")
        # hot path: one lookup decides route, versions, Accept and pipeline (R06 overrides: slow path)
        if method == "POST" and "x-http-method-override" in headers:
            plan = self._request_plan(method, path, headers, accept, to, source)
        else:
            key = (method, path, accept, to, source)
            cached = self._req_plans.get(key)
            plan = cached if cached is not None else self._req_plans.put(
                key, self._request_plan(method, path, headers, accept, to, source))
        endpoint, params, src, target, new_accept, accept_ids, pipeline, route, perspective = plan
        if src == target:
            return Translation(request, [], [], [], src, target, endpoint)
        body = request.body
        if body is None and request.raw and endpoint is not None:
            body = _parse_raw(request.raw, headers.get("content-type"))
        hdrs = dict(headers)
        if new_accept is not None:
            hdrs["accept"] = new_accept
        if not pipeline:
            if route is not None:  # R38/R39: everything but the body was decided by the plan
                hdrs["content-type"] = route.content_type
                req = _new(Request)  # _new_request, inlined
                req.method, req.path, req.headers, req.raw = route.method, route.path, hdrs, None
                req.body = route.rewrite.body(body, params)
                return Translation(req, [], [*route.applied], [*route.lossy], src, target, endpoint)
            req = _new_request(method, path, hdrs, body)
            if body is request.body:
                req.raw = request.raw
            return Translation(req, [], list(accept_ids),
                               [] if endpoint is not None else [UNKNOWN_ENDPOINT], src, target, endpoint)
        ctx = _context(src, target, options, endpoint, params, self, method, path, hdrs, body, 200, request,
                       perspective)
        applied, lz = ctx.applied, self._lossy
        applied.extend(accept_ids)
        for rid, hook, body_fn in pipeline:
            if body_fn is not None:  # a declared body fact: body in, same or new body out
                old = ctx.body
                new = body_fn(old, ctx)
                if new is old:
                    continue
                ctx.body = new
            elif not hook(ctx):  # type: ignore[misc]  # a step has a hook or a body fn
                continue
            if rid not in applied:
                applied.append(rid)
                if rid in lz:
                    record(ctx, rid, lz)
        if endpoint is None:
            ctx.lossy.append(UNKNOWN_ENDPOINT)
        req = _new(Request)  # _new_request, inlined: a frame less per translated request
        req.method, req.path, req.headers, req.body = ctx.method, ctx.path, ctx.headers, ctx.body
        req.raw = request.raw if ctx.body is request.body else None
        return Translation(req, ctx.prerequisites, applied, ctx.lossy, src, target, endpoint)

    def translate_response(self, request: Request, response: Response, source: str,
                           to: str | None = None, options: Options | None = None) -> ResponseTranslation:
        if options is None:
            options = DEFAULT_OPTIONS
        headers = request.headers
        method, path = request.method, request.path
        if method == "POST" and "x-http-method-override" in headers:
            plan = self._response_plan(method, path, headers, source, to)
        else:
            key = (method, path, headers.get("accept"), source, to)
            cached = self._res_plans.get(key)
            plan = cached if cached is not None else self._res_plans.put(
                key, self._response_plan(method, path, headers, source, to))
        endpoint, params, src, target, pipeline, objects, perspective = plan
        if src == target:
            return ResponseTranslation(response, [], [], src, target, endpoint)
        ctx = _context(src, target, options, endpoint, params, self, method, path,
                       dict(response.headers), response.body, response.status, request, perspective)
        applied, lz = ctx.applied, self._lossy
        for rid, fn in pipeline:
            done = fn(ctx)
            if done:
                if rid is None:  # the folded Content-Type phase reports its own rule ids
                    for r in done:
                        if r not in applied:
                            record(ctx, r, lz)
                elif rid not in applied:
                    applied.append(rid)
                    if rid in lz:
                        record(ctx, rid, lz)
        body = ctx.body
        if objects and body is not None and 200 <= ctx.status < 300:
            for loc, obj_pipeline in objects:
                if loc == "":
                    if isinstance(body, dict):
                        body = self._run(obj_pipeline, body, ctx)
                elif isinstance(body, list):
                    items = [self._run(obj_pipeline, o, ctx) if isinstance(o, dict) else o for o in body]
                    if any(a is not b for a, b in zip(items, body, strict=False)):
                        body = items
            ctx.body = body
        if endpoint is None:
            ctx.lossy.append(UNKNOWN_ENDPOINT)
        resp = _new(Response)  # built in place, as _new_request does: a frame less per response
        resp.status, resp.headers, resp.body = ctx.status, ctx.headers, body
        resp.raw = response.raw if body is response.body else None
        return ResponseTranslation(resp, applied, ctx.lossy, src, target, endpoint, ctx.prerequisites)

    def translate_webhook(self, event_type: str, body: Any, source: str, to: str = "1.0",
                          options: Options | None = None) -> WebhookTranslation:
        """One webhook delivery for a consumer registered at ``to`` (R49–R52, :mod:`.deliveries`)."""
        return translate_delivery(self, event_type, body, source, to, options or DEFAULT_OPTIONS)

    def translate_payload(self, kind: str, body: Any, source: str, to: str,
                          options: Options | None = None, *, perspective: str = "system") -> PayloadTranslation:
        """Translate one stored object (``kind`` in :data:`OBJECT_KINDS`, or a list of them).

        ``kind="webhook_delivery"`` translates a stored delivery body (its ``event.type`` names the
        event); the payload is then the list of ``{"type", "body"}`` events for the ``to`` version.
        """
        options = options or DEFAULT_OPTIONS
        src, target = checked_version(source, "from"), checked_version(to, "to")
        if kind == "webhook_delivery":
            # a stored delivery: its own event.type says what it is (R50-R52)
            event = body.get("event") if isinstance(body, dict) else None
            etype = event.get("type") if isinstance(event, dict) else None
            if not isinstance(etype, str):
                raise invalid_request("A webhook delivery needs event.type", data={"property": "event.type"})
            w = self.translate_webhook(etype, body, src, target, options)
            return PayloadTranslation([{"type": t, "body": b} for t, b in w.events], w.applied,
                                      w.lossy + ([w.reason] if w.reason and not w.lossy else []))
        if kind not in OBJECT_KINDS:
            raise invalid_request(f"Unknown payload kind {kind!r}; expected one of "
                                  f"{', '.join(OBJECT_KINDS)}, webhook_delivery",
                                  data={"property": "kind"})
        ctx = Context(src, target, options)
        ctx.engine = self
        ctx.perspective = perspective
        if isinstance(body, list):
            out = [self.run_object(kind, o, ctx) if isinstance(o, dict) else o for o in body]
        elif isinstance(body, dict):
            out = self.run_object(kind, body, ctx)
        else:
            raise invalid_request(f"A {kind} payload must be a JSON object", data={"property": kind})
        return PayloadTranslation(out, ctx.applied, ctx.lossy, ctx.prerequisites)


def _parse_raw(raw: bytes, content_type: str | None) -> Any:
    """A JSON body that arrived unparsed; malformed JSON is a v1-style ``400 invalid_request``."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct and not ct.endswith("json"):
        return None
    import json

    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request(f"Malformed JSON body: {exc}", data={"property": "body"}) from None


def _new_request(method: str, path: str, headers: dict[str, str], body: Any) -> Request:
    """A Request from already-normalised parts (skips ``__post_init__``: headers are lower-case)."""
    r = object.__new__(Request)
    r.method, r.path, r.headers, r.body, r.raw = method, path, headers, body, None
    return r
