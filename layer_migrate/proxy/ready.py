"""Readiness: can this proxy reach its upstream right now? (``/-/ready``)

Liveness (``/-/health``) only says the process serves; an orchestrator must also know when to
stop sending traffic because the upstream is gone. The probe is one bounded request to the
upstream (any HTTP answer, even 404, means reachable), its result cached for ``cache_seconds`` so
a probe storm from a load balancer cannot become an upstream storm, and concurrent callers share
one in-flight probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..errors import LayerError
from ..exchange import Request, Response
from .migrator import UpstreamFailure


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    #: why not: ``connect``, ``timeout``, ``tls``, ``reset``…
    cause: str | None = None
    detail: str = ""
    checked_at: float = 0.0


class Readiness:
    """A cached, single-flight, time-bounded upstream probe."""

    def __init__(self, send: Callable[[Request], Awaitable[Response]], *, path: str = "/",
                 timeout: float = 2.0, cache_seconds: float = 2.0) -> None:
        self._send = send
        self.path = path
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._last: ProbeResult | None = None
        self._inflight: asyncio.Task[ProbeResult] | None = None

    async def check(self) -> ProbeResult:
        last = self._last
        if last is not None and time.monotonic() - last.checked_at < self.cache_seconds:
            return last
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.get_running_loop().create_task(self._probe())
        return await asyncio.shield(self._inflight)

    async def _probe(self) -> ProbeResult:
        req = Request("GET", self.path, {"accept": "application/json"}, None, None)
        try:
            resp = await asyncio.wait_for(self._send(req), self.timeout)
            release = getattr(resp, "release", None)
            if release is not None:
                release()
            result = ProbeResult(True, checked_at=time.monotonic())
        except asyncio.TimeoutError:
            result = ProbeResult(False, "timeout", f"no answer within {self.timeout:g} s",
                                 time.monotonic())
        except UpstreamFailure as exc:
            result = ProbeResult(False, exc.kind, exc.detail, time.monotonic())
        except OSError as exc:
            result = ProbeResult(False, "connect", str(exc), time.monotonic())
        self._last = result
        return result


def not_ready_error(result: ProbeResult, upstream: str) -> LayerError:
    """The 503 Layer error ``/-/ready`` answers while the upstream cannot be reached."""
    return LayerError(
        "service_unavailable",
        f"Not ready: the upstream Layer API {upstream} cannot be reached ({result.cause}).",
        status=503, data={"upstream": result.cause, "detail": result.detail[:200]})
