"""The migration proxy as a plain ASGI application (served by uvicorn).

A bare ASGI callable rather than a framework: the proxy has three fixed paths of its own
(health, metrics, webhook relay) and forwards everything else, so routing is one comparison and
the hot path stays short — the brief's target is ≥ 85 % of a bare aiohttp pass-through.

Per request: read the body (size limit → 413), reject bodies that cannot be translated (bad
JSON → 400, non-JSON on a JSON endpoint → 406), run the shared exchange flow
(:mod:`.flow`) with the aiohttp upstream (:mod:`.upstream`), answer with recomputed
length and no hop-by-hop headers, count and log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from ..errors import LayerError
from ..exchange import Request, Response, request_of
from ..identity import BotDirectory
from .bodypolicy import BodyLimits, expand
from .config import ProxyConfig
from .fastclient import FastUpstream
from .flow import run_async
from .http import PROXY_RESPONSE_DROP, VERBATIM_RESPONSE_DROP, is_json_type, strip_hop_by_hop
from .logs import REQUEST_ID, request_id_from
from .metrics import CONTENT_TYPE as METRICS_CT
from .metrics import FLUSH_SECONDS, Metrics
from .migrator import JSON_CT, Migrator, Outcome, UpstreamFailure, error_response
from .observe import Recorder
from .ready import Readiness, not_ready_error
from .upstream import Upstream
from .verify import Verifier
from .webhooks import WebhookRelay

Scope = dict[str, Any]
log = logging.getLogger("layer_migrate.proxy")


class _TooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass




class ProxyApp:
    """ASGI app: ``uvicorn.run(ProxyApp(config))`` or :func:`create_app` for workers."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.metrics = Metrics(config.upstream_version,
                               "report-only" if config.report_only else "translate")
        limits = BodyLimits(max_body=config.max_upstream_body, max_ratio=config.max_decompress_ratio)
        self.upstream = Upstream(config.upstream, connect_timeout=config.connect_timeout,
                                 total_timeout=config.upstream_timeout, pool_size=config.pool_size,
                                 keepalive_expiry=config.upstream_keepalive,
                                 ca_file=config.upstream_ca, pool_wait=config.pool_wait, limits=limits)
        #: the hot-path client for plain-http upstreams (see fastclient.py for the measurement)
        self.fast: FastUpstream | None = None
        if config.upstream_client == "fast" and config.upstream.startswith("http://"):
            self.fast = FastUpstream(config.upstream, connect_timeout=config.connect_timeout,
                                     total_timeout=config.upstream_timeout, pool_size=config.pool_size,
                                     keepalive_expiry=config.upstream_keepalive,
                                     pool_wait=config.pool_wait, limits=limits)
        bots = BotDirectory.load(config.bot_map) if config.bot_map else BotDirectory()
        self.migrator = Migrator(config.upstream_version, bots=bots, add_dedupe=config.add_dedupe,
                                 retries=config.retries, backoff=config.retry_backoff,
                                 report_only=config.report_only,
                                 engine_options=config.engine_kwargs,
                                 rules=(config.rules_dir,) if config.rules_dir else ())
        self.recorder = Recorder(config, self.metrics, self.migrator)
        self.readiness = Readiness(self._send_raw, timeout=config.ready_timeout,
                                   cache_seconds=config.ready_cache)
        self.verifier: Verifier | None = None
        if config.verify_reads and not config.report_only:
            self.verifier = Verifier(self.migrator, self.metrics, self._send, self.recorder.verify,
                                     sample=config.verify_sample,
                                     max_inflight=config.verify_max_inflight,
                                     timeout=config.upstream_timeout,
                                     upstream_version=config.upstream_version)
        self.relay: WebhookRelay | None = None
        self.hook_session: aiohttp.ClientSession | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._started = False

    # -- lifecycle ------------------------------------------------------------------------------

    async def startup(self) -> None:
        if self._started:
            return
        await self.upstream.start()
        if self.fast is not None:
            await self.fast.start()
        self.recorder.open()
        if self.config.webhooks_enabled:
            self.relay = WebhookRelay(upstream_secret=self.config.upstream_webhook_secret or "",
                                      target_secret=self.config.webhook_secret or "",
                                      upstream_version=self.config.upstream_version,
                                      options=self.migrator.options, translator=self.migrator)
            self.hook_session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.webhook_timeout))
        if not self.config.report_only:
            # Compile the rulebook now, not on the first request.
            _ = self.migrator.engine, self.migrator.options
        if self.metrics.multiprocess:
            self._flusher = asyncio.get_running_loop().create_task(self._tick_loop())
        self._started = True

    async def shutdown(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        if self.verifier is not None:
            await self.verifier.close()
        await self.upstream.close()
        if self.fast is not None:
            await self.fast.close()
        if self.hook_session is not None:
            await self.hook_session.close()
        self.recorder.close()
        self.metrics.close()
        self._started = False

    def flush_logs(self) -> None:
        """Block until the access and report records so far are written (they are written by a
        logging thread, not the event loop)."""
        self.recorder.flush()

    async def _tick_loop(self) -> None:
        """Keep this worker's samples fresh for scrapes answered by another worker: tallied
        rule applications every :data:`~.metrics.FLUSH_SECONDS`, process gauges every 5 s."""
        ticks = 0
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            self.metrics.flush()
            ticks += 1
            if ticks % 5 == 0:
                self.metrics.update_process_metrics()

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        # websocket: not part of the Platform API; uvicorn answers 403 when we do nothing.

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # noqa: BLE001 - reported to uvicorn, which exits
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self._started:  # servers without lifespan support
            await self.startup()
        path: str = scope["path"]
        cfg = self.config
        if path == cfg.health_path:
            await _answer(send, 200, {"content-type": JSON_CT}, orjson.dumps({
                "status": "ok", "upstream_version": cfg.upstream_version,
                "mode": "report-only" if cfg.report_only else "translate"}))
            return
        if path == cfg.metrics_path:
            await _answer(send, 200, {"content-type": METRICS_CT}, self.metrics.render())
            return
        if path == cfg.ready_path:
            probe = await self.readiness.check()
            if probe.ok:
                await _answer(send, 200, {"content-type": JSON_CT}, orjson.dumps(
                    {"status": "ready", "upstream": cfg.upstream}))
            else:
                await self._respond(send, error_response(not_ready_error(probe, cfg.upstream)))
            return
        headers = _headers(scope)
        rid = headers["x-request-id"] = request_id_from(headers.get("x-request-id"))
        REQUEST_ID.set(rid)
        if path == cfg.webhook_path and self.relay is not None:
            await self.webhook(scope, receive, send, headers)
            return
        started = time.perf_counter()
        self.metrics.inflight.inc()
        try:
            try:
                outcome = await self._exchange(scope, receive, headers)
            except (_ClientGone, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - a rule or proxy bug: a Layer error, one log line
                log.error("internal error on %s %s: %s: %s", scope["method"], scope["path"],
                          type(exc).__name__, exc)
                outcome = Outcome(error_response(LayerError(
                    "internal_server_error", "The migration proxy could not process this request.",
                    status=500)), None, error=f"internal: {type(exc).__name__}")
            outcome.response.headers["x-request-id"] = rid
            await self._respond(send, outcome.response, receive)
        except _ClientGone:
            return
        finally:
            self.metrics.inflight.dec()
        self.recorder.request(scope, headers, outcome, time.perf_counter() - started, rid)
        if self.verifier is not None:
            self.verifier.after(scope, outcome, rid)

    async def _exchange(self, scope: Scope, receive: Any, headers: dict[str, str]) -> Outcome:
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        target = raw_path.decode("latin-1")
        if not target.startswith("/") or "://" in target.split("?", 1)[0][:16]:
            return Outcome(error_response(LayerError(
                "invalid_request", "Request target must be a path", status=400)), None,
                error="bad_target")
        qs: bytes = scope.get("query_string") or b""
        if qs:
            target += "?" + qs.decode("latin-1")
        try:
            raw = await _read_body(receive, self.config.max_body, headers.get("content-length"),
                                   "transfer-encoding" in headers)
        except _TooLarge:
            return Outcome(error_response(LayerError(
                "invalid_request", f"Request body larger than {self.config.max_body} bytes",
                status=413, data={"max_bytes": self.config.max_body})), None, error="too_large")
        except LayerError as exc:
            return Outcome(error_response(exc), None, error=f"refused: {exc.id}")
        req = request_of(method, target, headers, None, raw or None)  # names lower-cased by _headers
        if self.migrator.report_only:
            # Byte for byte: the scope's fields (order, repeats) and the raw body go upstream.
            fields: list[tuple[bytes, bytes]] = scope["headers"]
            body = raw or b""

            async def verbatim(_: Request) -> Response:
                return await self._send_verbatim(method, target, fields, body)

            return await run_async(self.migrator, req, verbatim, send_raw=verbatim)
        # The flow resolves the route, decides pass-through and parses the body (once, and only
        # to translate it); pass-through answers are never parsed: their bytes go back untouched.
        send: Callable[[Request], Awaitable[Response]] = self._send
        if self.verifier is not None and method == "GET":
            send = self.verifier.capturing(send, scope)  # used for translated requests only
        return await run_async(self.migrator, req, send, send_raw=self._send_raw)

    async def _send(self, req: Request) -> Response:
        if self.fast is not None and req.method != "HEAD":
            return await self.fast.send(req)
        return await self.upstream.send(req)

    async def _send_verbatim(self, method: str, target: str, fields: list[tuple[bytes, bytes]],
                             body: bytes) -> Response:
        if self.fast is not None and method != "HEAD":
            return await self.fast.send_verbatim(method, target, fields, body)
        return await self.upstream.send_verbatim(method, target, fields, body)

    async def _send_raw(self, req: Request) -> Response:
        if self.fast is not None and req.method != "HEAD":
            return await self.fast.send(req, parse=False)
        return await self.upstream.send(req, parse=False)

    async def _respond(self, send: Any, resp: Response, receive: Any = None) -> None:
        fields = getattr(resp, "verbatim", None)
        if fields is not None:  # report-only: the upstream's fields and bytes as received
            out = [(k, v) for k, v in fields if k.lower() not in VERBATIM_RESPONSE_DROP]
            if getattr(resp, "stream", None) is not None:
                await self._stream(send, receive, resp, out)
                return
            data = resp.raw or b""
            if resp.status not in (204, 304):
                out.append((b"content-length", str(len(data)).encode()))
            await send({"type": "http.response.start", "status": resp.status, "headers": out})
            await send({"type": "http.response.body", "body": data})
            return
        headers = strip_hop_by_hop(resp.headers, PROXY_RESPONSE_DROP)
        if getattr(resp, "stream", None) is not None:  # aiohttp or fast-client stream
            await self._stream(send, receive, resp, expand(headers))
            return
        if resp.body is not None:
            try:
                data = orjson.dumps(resp.body)
            except orjson.JSONEncodeError:  # nested past orjson's 254 levels: never a 500
                await self._respond(send, error_response(LayerError(
                    "service_unavailable", "The upstream answer nests JSON too deeply to translate.",
                    status=502, data={"upstream": "too_deep"})))
                return
            if not is_json_type(headers.get("content-type")):
                headers["content-type"] = JSON_CT
        else:
            data = resp.raw or b""
        if resp.status in (204, 304) or (100 <= resp.status < 200):
            data = b""
        else:
            headers["content-length"] = str(len(data))
        await _answer(send, resp.status, headers, data)

    async def _stream(self, send: Any, receive: Any, resp: Response,
                      headers: list[tuple[bytes, bytes]]) -> None:
        """Relay a streamed body within the idle/total timeouts; the slot is freed when the
        body ends, fails, times out or the client goes away (issue 11 finding 3)."""
        cfg = self.config
        loop = asyncio.get_running_loop()

        async def pump() -> None:
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            chunks = resp.chunks().__aiter__()  # type: ignore[attr-defined]

            async def relay_one() -> bool:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return False
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                return True

            deadline = loop.time() + cfg.stream_total_timeout
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    raise asyncio.TimeoutError
                # The idle deadline covers reading the next chunk AND handing it to a client that
                # may never read (its writes stall): both run under one wait_for (asyncio.timeout
                # would do, but the package supports Python 3.10).
                if not await asyncio.wait_for(relay_one(), min(cfg.stream_idle_timeout, left)):
                    break
            await send({"type": "http.response.body", "body": b""})

        async def gone() -> None:
            while receive is not None and (await receive())["type"] != "http.disconnect":
                pass
            if receive is None:
                await asyncio.Event().wait()

        task = loop.create_task(pump())
        watch = loop.create_task(gone())
        try:
            await asyncio.wait((task, watch), return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                try:
                    task.result()
                except (asyncio.TimeoutError, UpstreamFailure) as exc:
                    log.warning("streamed answer cut off: %s", type(exc).__name__)
                    raise _ClientGone() from None
        finally:
            watch.cancel()
            if not task.done():
                task.cancel()
            resp.release()  # type: ignore[attr-defined]

    # -- webhook relay --------------------------------------------------------------------------

    async def webhook(self, scope: Scope, receive: Any, send: Any, headers: dict[str, str]) -> None:
        relay = self.relay
        assert relay is not None and self.hook_session is not None
        if scope["method"] == "GET":
            res = relay.challenge((scope.get("query_string") or b"").decode("latin-1"))
            if res is None:
                await _answer(send, 400, {"content-type": "text/plain"}, b"missing verification_challenge")
                return
            await _answer(send, res.status, {"content-type": res.content_type}, res.body)
            return
        if scope["method"] != "POST":
            err = LayerError("method_not_allowed", "Webhook deliveries are POSTed", headers={"allow": "GET, POST"})
            await self._respond(send, error_response(err))
            return
        try:
            raw = await _read_body(receive, self.config.max_body, headers.get("content-length"))
        except (_TooLarge, LayerError):
            await _answer(send, 413, {"content-type": "text/plain"}, b"too large")
            return
        res = relay.prepare(headers, raw)
        outcome = res.outcome
        status = res.status
        for d in res.deliveries:
            try:
                async with self.hook_session.post(self.config.webhook_target or "", data=d.body,
                                                  headers=d.headers, allow_redirects=False) as r:
                    await r.read()
                    ok = 200 <= r.status < 300
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok = False
            if not ok:
                outcome, status = "failed", 502
                break
        self.recorder.webhook(scope["path"], headers.get("layer-webhook-event-type"),
                              [d.event_type for d in res.deliveries], outcome, status,
                              request_id_from(headers.get("x-request-id")))
        body = res.body if status == res.status else b""
        await _answer(send, status, {"content-type": res.content_type}, body)


def create_app(config: ProxyConfig | None = None) -> ProxyApp:
    """App factory for any ASGI server (``uvicorn --factory layer_migrate.proxy.app:create_app``,
    or :mod:`layer_migrate.proxy.asgi`); see :func:`.settings.app_config_from_environment`."""
    if config is not None:
        return ProxyApp(config)
    from .settings import app_config_from_environment

    return ProxyApp(app_config_from_environment())


# ---------------------------------------------------------------------------------------------


def _headers(scope: Scope) -> dict[str, str]:
    pairs = scope["headers"]
    out = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in pairs}
    if len(out) == len(pairs):
        return out  # no repeated field: the common case, one comprehension
    out = {}
    for k, v in pairs:
        name = k.decode("latin-1").lower()
        value = v.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


_asgi_headers = expand


async def _answer(send: Any, status: int, headers: dict[str, str], body: bytes) -> None:
    if "content-length" not in headers and status not in (204, 304):
        headers = {**headers, "content-length": str(len(body))}
    await send({"type": "http.response.start", "status": status, "headers": _asgi_headers(headers)})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any, limit: int, declared: str | None, chunked: bool = True) -> bytes:
    """The request body within ``limit`` (slow bodies are cut by :mod:`.serving`'s guard).

    Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body (RFC 9112
    §6.3): nothing to wait for, so a GET costs no ``receive()`` round trip.
    """
    if declared is None and not chunked:
        return b""
    if declared is not None:
        if not declared.strip().isdigit():
            raise LayerError("invalid_request", "Invalid Content-Length", status=400)
        if int(declared) > limit:
            raise _TooLarge()
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise _ClientGone()
        chunk = msg.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise _TooLarge()
            chunks.append(chunk)
        if not msg.get("more_body"):
            break
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]
