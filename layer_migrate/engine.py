"""The translation engine: chains the rulebook between any two Platform API versions.

Pure (no network, no clock): ``(request, options) → request + prerequisites`` and
``(original request, response, options) → response``. Rules are chained per version step
(spec §14 legend): upgrades walk 1.0 → 1.1 → 2.0 → 3.0, downgrades walk back. Within a step
rules run in spec order going up and in reverse going down.

Pipelines (the list of callables for one endpoint, version pair and direction) are compiled once
and cached, so the proxy's hot path pays for nothing but the rules that actually concern the
request. Objects are rebuilt copy-on-write along the touched keys only (no deep copies).

This module keeps version detection, the :class:`Engine` (compilation and running of pipelines),
the hooks it builds from route/media-type facts and the module-level API. Its neighbours each do
one job and are re-exported here, so ``layer_migrate.engine`` remains the one import surface:
:mod:`.options` (``Options``), :mod:`.prerequisites`, :mod:`.results` (``Translation`` & co.),
:mod:`.fact_compiler` (declared facts → callables) and :mod:`.rule_examples` (``run_example``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from . import routes
from .errors import LayerError, invalid_header, invalid_property, invalid_request
from .exchange import Request, Response
from .fact_compiler import (  # noqa: F401  (re-exported: the pre-split surface of this module)
    _DOWN,
    _ID_CACHE,
    _SKIP,
    _UNRESERVED,
    _UP,
    Action,
    _act_bot_identity,
    _act_bot_name,
    _act_identity_id,
    _act_remove,
    _act_sender_from_v1,
    _act_sender_object,
    _act_user_id,
    _apply,
    _generic,
    _get,
    _overrides_down,
    _overrides_up,
    _parse_path,
    _specialised,
    _with,
    _without,
    bot_name,
    compile_field_fact,
    compile_patch_fact,
    fast_identity_id,
    fast_user_id,
    sender_from_v1,
    sender_to_v1,
)
from .facts import FieldFact, MediaTypeFact, PatchOpFact, RouteFact
from .identity import IDENTITY_PREFIX, BotDirectory, default_bot_user_id, identity_id, user_id_of  # noqa: F401
from .options import Options
from .prerequisites import EnsureIdentity, EnsureParticipant, Prerequisite
from .results import PayloadTranslation, ResponseTranslation, Translation, WebhookTranslation
from .rule_examples import _example_options, _example_path, run_example  # noqa: F401
from .rulebook import ALL_STEPS, OBJECT_KINDS, OBJECT_LOCATIONS, Context, Rule, load_rulebook
from .versions import (
    PATCH_MEDIA_TYPE,  # noqa: F401
    PLATFORM_MEDIA_TYPE,
    STEPS,
    VERSIONS,
    WEBHOOKS_MEDIA_TYPE,
    UnknownVersion,
    accept_header,
    check_version,
    version_of,
)

__all__ = [
    "EnsureIdentity", "EnsureParticipant", "Engine", "Options", "PayloadTranslation", "Prerequisite",
    "ResponseTranslation", "Translation", "WebhookTranslation", "default_engine", "detect_version",
    "translate_payload", "translate_request", "translate_response", "translate_webhook",
]


# ---- versions ---------------------------------------------------------------------------------
_CHECKED: dict[Any, str] = {v: v for v in VERSIONS}


def _check(version: str, what: str = "version") -> str:
    hit = _CHECKED.get(version)
    if hit is not None:
        return hit
    try:
        return check_version(version)
    except (UnknownVersion, TypeError) as exc:
        raise LayerError("invalid_header" if what == "accept" else "invalid_request", str(exc),
                         data={"property": what}) from None


def is_webhooks_endpoint(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.startswith("webhooks.")  # type: ignore[union-attr]


def detect_version(request: Request, endpoint: str | None = None) -> str:
    """The Platform API version a client asked for (R04: no Layer media type in Accept = 1.0).

    ``webhooks.*`` endpoints read the webhooks media type (§1.2, §12.4); the undocumented
    webhooks ``version=1.1`` (snap-swap, OBS) counts as 1.0. An unknown version → ``406
    invalid_header`` (§1.2).
    """
    accept = request.headers.get("accept")
    if endpoint is None:
        m = routes.match(request.method, request.path)
        endpoint = m.name if m else None
    return _version_from_accept(accept, is_webhooks_endpoint(endpoint))


@lru_cache(maxsize=512)
def _version_from_accept(accept: str | None, webhooks: bool) -> str:
    if webhooks:
        v = version_of(accept, WEBHOOKS_MEDIA_TYPE) or version_of(accept)
        if v is None:
            return "1.0"
        if v == "1.1":
            return "1.0"
    else:
        v = version_of(accept)
        if v is None:
            if accept and PLATFORM_MEDIA_TYPE in accept.lower():
                raise invalid_header("Accept")
            return "1.0"
    if v not in VERSIONS:
        raise invalid_header("Accept")
    return v


# ---- the engine -------------------------------------------------------------------------------
Step = tuple[str, str]
ReqFn = Callable[[Context], bool | None]
ObjFn = Callable[[Any, Context], Any]


def _steps(source: str, target: str) -> list[Step]:
    si, ti = VERSIONS.index(source), VERSIONS.index(target)
    if si <= ti:
        return [s for s in STEPS if VERSIONS.index(s[0]) >= si and VERSIONS.index(s[1]) <= ti]
    return [s for s in reversed(STEPS) if VERSIONS.index(s[0]) >= ti and VERSIONS.index(s[1]) <= si]


def _body_hook(fn: Callable[[Any, Context], Any]) -> ReqFn:
    def hook(ctx: Context) -> bool:
        new = fn(ctx.body, ctx)
        if new is ctx.body:
            return False
        ctx.body = new
        return True

    return hook


class Engine:
    """A compiled rulebook. Use :func:`default_engine` unless you load extra rule folders."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self.rules = rules if rules is not None else load_rulebook()
        self.by_id = {r.id: r for r in self.rules}
        self._req: dict[tuple[Any, ...], tuple[tuple[str, ReqFn], ...]] = {}
        self._res: dict[tuple[Any, ...], tuple[tuple[str, ReqFn], ...]] = {}
        self._obj: dict[tuple[Any, ...], tuple[tuple[str, ObjFn], ...]] = {}
        self._routes: dict[tuple[str, str], tuple[str | None, dict[str, str]]] = {}
        self._client_versions: dict[tuple[str | None, str | None], str] = {}
        #: rule id → its "lossy" line, reported whenever the rule applied
        self._lossy = {r.id: f"{r.id}: {r.lossy}" for r in self.rules if r.lossy}

    def _report_lossy(self, ctx: Context) -> None:
        lz, lossy = self._lossy, ctx.lossy
        for rid in ctx.applied:
            text = lz.get(rid)
            if text is not None and text not in lossy:
                lossy.append(text)

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
        hit = (m.name, m.params) if m else (None, {})
        if len(self._routes) > 4096:
            self._routes.clear()
        self._routes[key] = hit
        return hit

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

    def request_pipeline(self, endpoint: str | None, source: str, target: str) -> tuple[tuple[str, ReqFn], ...]:
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
        if accept:
            fns.insert(0, (None, _fold_accept(accept)))
        result = tuple(fns)
        self._req[key] = result
        return result

    def _compile_request_fact(self, fact: Any, rule: Rule, step: Step, endpoint: str | None,
                              up: bool) -> ReqFn | None:
        if isinstance(fact, FieldFact) and fact.direction == "request":
            if endpoint in fact.endpoints:
                fn = compile_field_fact(fact, forward=up)
                return _body_hook(fn) if fn is not None else None
        elif isinstance(fact, PatchOpFact):
            if endpoint in fact.endpoints:
                return _body_hook(compile_patch_fact(fact, forward=up))
        elif isinstance(fact, MediaTypeFact):
            return _media_type_hook(fact, step, up)
        elif isinstance(fact, RouteFact):
            if up and endpoint == fact.from_endpoint:
                return _route_hook(fact)
        return None

    def response_pipeline(self, endpoint: str | None, source: str, target: str) -> tuple[tuple[str, ReqFn], ...]:
        """Hooks for a response of ``endpoint`` going from ``source`` (server) to ``target``."""
        key = (endpoint, source, target)
        cached = self._res.get(key)
        if cached is not None:
            return cached
        down = VERSIONS.index(source) >= VERSIONS.index(target)
        fns: list[tuple[str, ReqFn]] = []
        for _step, rule in self._rules_for(source, target):
            if down:
                for fact in rule.facts:
                    if isinstance(fact, RouteFact) and fact.status_map and endpoint == fact.from_endpoint:
                        fns.append((rule.id, _status_hook(fact)))
            if self._concerns(rule, rule.endpoints, endpoint) or not rule.endpoints:
                for hook in rule.hooks["response_down" if down else "response_up"]:
                    fns.append((rule.id, hook))
        result = tuple(fns)
        self._res[key] = result
        return result

    def object_pipeline(self, kind: str, source: str, target: str) -> tuple[tuple[str, ObjFn], ...]:
        key = (kind, source, target)
        cached = self._obj.get(key)
        if cached is not None:
            return cached
        down = VERSIONS.index(source) >= VERSIONS.index(target)
        way = "down" if down else "up"
        fns: list[tuple[str, ObjFn]] = []
        for _step, rule in self._rules_for(source, target):
            for k, fact in rule.object_facts:
                if k == kind:
                    fn = compile_field_fact(fact, forward=down)
                    if fn is not None:
                        fns.append((rule.id, fn))
            for hook in rule.object_hooks.get((kind, way), ()):
                fns.append((rule.id, hook))
        result = tuple(fns)
        self._obj[key] = result
        return result

    # -- running --
    def run_object(self, kind: str, obj: Any, ctx: Context, source: str | None = None,
                   target: str | None = None) -> Any:
        """Translate one ``kind`` object with the context's versions (or those given)."""
        key = (kind, source or ctx.source, target or ctx.target)
        applied, lz = ctx.applied, self._lossy
        pipeline = self._obj.get(key)
        if pipeline is None:
            pipeline = self.object_pipeline(*key)
        for rid, fn in pipeline:
            new = fn(obj, ctx)
            if new is not obj:
                obj = new
                if rid not in applied:
                    applied.append(rid)
                    if rid in lz and lz[rid] not in ctx.lossy:
                        ctx.lossy.append(lz[rid])
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

    def translate_request(self, request: Request, to: str, source: str | None = None,
                          options: Options | None = None) -> Translation:
        if options is None:
            options = _DEFAULT_OPTIONS
        target = _CHECKED.get(to) or _check(to, "to")
        headers = request.headers
        method, path = request.method, request.path
        # hot path: cached route (R06 overrides take the slow path), version and pipeline
        hit = None if method == "POST" and "x-http-method-override" in headers else self._routes.get((method, path))
        endpoint, params = hit if hit is not None else self.route(method, path, headers)
        if source:
            src = _CHECKED.get(source) or _check(source, "from")
        else:
            accept = headers.get("accept")
            src = self._client_versions.get((accept, endpoint)) or self._client_version(accept, endpoint)
        if src == target:
            return Translation(request, [], [], [], src, target, endpoint)
        body = request.body
        if body is None and request.raw and endpoint is not None:
            body = _parse_raw(request.raw, headers.get("content-type"))
        ctx = Context(src, target, options, endpoint, params, self, method, path, dict(headers), body, 200,
                      request)
        applied, lz = ctx.applied, self._lossy
        pipeline = self._req.get((endpoint, src, target))
        if pipeline is None:
            pipeline = self.request_pipeline(endpoint, src, target)
        for rid, fn in pipeline:
            done = fn(ctx)
            if done:
                if rid is None:  # the folded Accept phase reports its own rule ids
                    applied.extend(done)
                elif rid not in applied:
                    applied.append(rid)
                    if rid in lz and lz[rid] not in ctx.lossy:
                        ctx.lossy.append(lz[rid])
        if endpoint is None:
            ctx.lossy.append("unknown endpoint: passed through")
        req = _new_request(ctx.method, ctx.path, ctx.headers, ctx.body)
        if ctx.body is request.body:
            req.raw = request.raw
        return Translation(req, ctx.prerequisites, applied, ctx.lossy, src, target, endpoint)

    def _client_version(self, accept: str | None, endpoint: str | None) -> str:
        v = _version_from_accept(accept, is_webhooks_endpoint(endpoint))
        if len(self._client_versions) > 1024:
            self._client_versions.clear()
        self._client_versions[(accept, endpoint)] = v
        return v

    def translate_response(self, request: Request, response: Response, source: str,
                           to: str | None = None, options: Options | None = None) -> ResponseTranslation:
        if options is None:
            options = _DEFAULT_OPTIONS
        src = _CHECKED.get(source) or _check(source, "from")
        headers = request.headers
        method, path = request.method, request.path
        # the same inlined lookups as translate_request (measured: a call here costs the blocks case ~5%)
        hit = None if method == "POST" and "x-http-method-override" in headers else self._routes.get((method, path))
        endpoint, params = hit if hit is not None else self.route(method, path, headers)
        if to:
            target = _CHECKED.get(to) or _check(to, "to")
        else:
            accept = headers.get("accept")
            target = self._client_versions.get((accept, endpoint)) or self._client_version(accept, endpoint)
        if src == target:
            return ResponseTranslation(response, [], [], src, target, endpoint)
        ctx = Context(src, target, options, endpoint, params, self, method, path,
                      dict(response.headers), response.body, response.status, request)
        applied, lz = ctx.applied, self._lossy
        pipeline = self._res.get((endpoint, src, target))
        if pipeline is None:
            pipeline = self.response_pipeline(endpoint, src, target)
        for rid, fn in pipeline:
            if fn(ctx) and rid not in applied:
                applied.append(rid)
                if rid in lz and lz[rid] not in ctx.lossy:
                    ctx.lossy.append(lz[rid])
        if 200 <= ctx.status < 300 and ctx.body is not None:
            ctx.body = self.run_objects_at(endpoint, ctx.body, ctx)
        if endpoint is None:
            ctx.lossy.append("unknown endpoint: passed through")
        resp = _new_response(ctx.status, ctx.headers, ctx.body)
        if ctx.body is response.body:
            resp.raw = response.raw
        return ResponseTranslation(resp, applied, ctx.lossy, src, target, endpoint, ctx.prerequisites)

    def translate_payload(self, kind: str, body: Any, source: str, to: str,
                          options: Options | None = None, *, perspective: str = "system") -> PayloadTranslation:
        """Translate one stored object (``kind`` in :data:`OBJECT_KINDS`, or a list of them).

        ``kind="webhook_delivery"`` translates a stored delivery body (its ``event.type`` names the
        event); the payload is then the list of ``{"type", "body"}`` events for the ``to`` version.
        """
        options = options or _DEFAULT_OPTIONS
        src, target = _check(source, "from"), _check(to, "to")
        if kind == "webhook_delivery":
            # a stored delivery: its own event.type says what it is (R50-R52)
            from .webhook_events import translate_webhook as _tw

            event = body.get("event") if isinstance(body, dict) else None
            etype = event.get("type") if isinstance(event, dict) else None
            if not isinstance(etype, str):
                raise invalid_request("A webhook delivery needs event.type", data={"property": "event.type"})
            w = _tw(self, etype, body, src, target, options)
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


def _fold_accept(hooks: list[tuple[str, ReqFn, Step]]) -> Callable[[Context], tuple[str, ...]]:
    """All Accept-only hooks of a pipeline (R01–R04, R53) as one step, cached per Accept value.

    Their result depends only on the Accept header (the pipeline fixes endpoint and versions), so
    the proxy hot path pays one dict lookup instead of re-parsing the header once per rule.
    """
    cache: dict[str | None, tuple[str | None, tuple[str, ...]]] = {}

    def accept_phase(ctx: Context) -> tuple[str, ...]:
        acc = ctx.headers.get("accept")
        hit = cache.get(acc)
        if hit is None:
            saved = ctx.headers
            ctx.headers = {"accept": acc} if acc is not None else {}
            ids: list[str] = []
            try:
                for rid, fn, step in hooks:
                    ctx.step = step
                    if fn(ctx) and rid not in ids:
                        ids.append(rid)
                hit = (ctx.headers.get("accept"), tuple(ids))
            finally:
                ctx.headers = saved
            if len(cache) > 256:
                cache.clear()
            cache[acc] = hit
        if hit[0] != acc and hit[0] is not None:
            ctx.headers["accept"] = hit[0]
        return hit[1]

    return accept_phase


def _new_request(method: str, path: str, headers: dict[str, str], body: Any) -> Request:
    """A Request from already-normalised parts (skips ``__post_init__``: headers are lower-case)."""
    r = object.__new__(Request)
    r.method, r.path, r.headers, r.body, r.raw = method, path, headers, body, None
    return r


def _new_response(status: int, headers: dict[str, str], body: Any) -> Response:
    r = object.__new__(Response)
    r.status, r.headers, r.body, r.raw = status, headers, body, None
    return r


def _media_type_hook(fact: MediaTypeFact, step: Step, up: bool) -> ReqFn:
    """Generic MediaTypeFact: the Accept version moves across ``step`` (R01–R04, R53)."""
    new_version = step[1] if up else step[0]
    old_versions = fact.from_versions
    media = fact.media_type

    def hook(ctx: Context) -> bool:
        webhooks = is_webhooks_endpoint(ctx.endpoint)
        if (media == WEBHOOKS_MEDIA_TYPE) != webhooks:
            return False
        accept = ctx.headers.get("accept")
        current = version_of(accept, media)
        if current is None and webhooks and media == WEBHOOKS_MEDIA_TYPE:
            current = version_of(accept)  # a webhooks client that sent the platform media type
        if current is None:
            current = ctx.source if not webhooks else "1.0"
        if current == "1.1" and webhooks:
            current = "1.0"
        if current not in old_versions or current == new_version:
            return False
        ctx.headers["accept"] = accept_header(new_version, media)
        return True

    return hook


def _route_hook(fact: RouteFact) -> ReqFn:
    """Generic RouteFact (R38/R39): one v1 call becomes a Layer-Patch call."""
    paths: dict[str, str] = {}  # original path → rebuilt path (R13 encoding), cached
    key_param = fact.user_from.split(".", 1)[1] if fact.user_from.startswith("path.") else None

    def hook(ctx: Context) -> bool:
        if key_param is None:
            body = ctx.body
            if body is None or not isinstance(body, dict):
                raise invalid_request("The request body must be a JSON object", data={"property": "user_id"})
            uid = body.get("user_id")
            if uid is None:
                raise LayerError("missing_property", "Object is missing required member 'user_id'",
                                 data={"property": "user_id"})
            if not isinstance(uid, str) or not uid:
                raise invalid_property("user_id", "Property 'user_id' must be a non-empty user id string")
        else:
            uid = ctx.params.get(key_param)
        new_path = paths.get(ctx.path)
        if new_path is None:
            params = {k: v for k, v in ctx.params.items() if k in ("app", "user")}
            query = ctx.path.split("?", 1)[1] if "?" in ctx.path else ""
            new_path = routes.build_path(fact.to_endpoint, **params) + (f"?{query}" if query else "")
            if len(paths) > 1024:
                paths.clear()
            paths[ctx.path] = new_path
        ctx.path = new_path
        ctx.method = fact.to_method
        ctx.headers["content-type"] = fact.content_type
        ctx.body = [{"operation": fact.body_op, "property": fact.property, "id": fast_identity_id(uid)}]
        ctx.endpoint = fact.to_endpoint
        return True

    return hook


def _status_hook(fact: RouteFact) -> ReqFn:
    v1_status, new_status = fact.status_map  # type: ignore[misc]

    def hook(ctx: Context) -> bool:
        if ctx.status == new_status:
            ctx.status = v1_status
            ctx.body = None
            ctx.headers.pop("content-type", None)
            ctx.headers.pop("content-length", None)
            ctx.note_lossy(fact.rule, f"applied asynchronously upstream ({new_status})")
            return True
        return False

    return hook


# ---- module-level API ---------------------------------------------------------------------------
_DEFAULT_OPTIONS = Options()
_ENGINE: Engine | None = None


def default_engine() -> Engine:
    """The engine over the built-in rulebook (compiled once per process)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def translate_request(request: Request, to: str, source: str | None = None,
                      options: Options | None = None) -> Translation:
    """Upgrade (or downgrade) one request for a server speaking ``to``. See docs/architecture.md."""
    return default_engine().translate_request(request, to, source, options)


def translate_response(request: Request, response: Response, source: str, to: str | None = None,
                       options: Options | None = None) -> ResponseTranslation:
    """Translate a ``source``-version response to the version of the client's ``request``."""
    return default_engine().translate_response(request, response, source, to, options)


def translate_payload(kind: str, body: Any, source: str, to: str,
                      options: Options | None = None, *, perspective: str = "system") -> PayloadTranslation:
    """Translate a stored object (message, conversation, announcement, identity, block, user, webhook)."""
    return default_engine().translate_payload(kind, body, source, to, options, perspective=perspective)


def translate_webhook(event_type: str, body: Any, source: str, to: str = "1.0",
                      options: Options | None = None) -> WebhookTranslation:
    """Translate one webhook delivery for a consumer registered at ``to`` (R50–R52)."""
    return _webhook_events().translate_webhook(default_engine(), event_type, body, source, to,
                                               options or _DEFAULT_OPTIONS)


def _webhook_events() -> Any:
    from . import webhook_events  # imports this module's names lazily: keep the import here

    return webhook_events
