"""One exchange as a sans-I/O flow, and the two drivers that run it (sync and async).

:func:`exchange` is a generator: it makes every decision (through :class:`~.migrator.Migrator`)
and *yields* what it needs done — :class:`Send` a request upstream, :class:`Sleep` before
another attempt, :class:`Wait` for a prerequisite another exchange is fulfilling — the way
httpx's ``Auth.auth_flow`` yields requests and mitmproxy's layers yield commands. A driver does
the step and sends the result back in (a :class:`~.exchange.Response`, or throws the
:class:`~.migrator.UpstreamFailure` it got). :func:`run_sync` (httpx.Client, requests) and
:func:`run_async` (the proxy, httpx.AsyncClient) are those drivers and nothing else, so retries,
back-off, response release and prerequisites cannot drift between the faces.

The flow's shape::

    plan = migrator.plan(request)                 # refusal → answered locally, nothing sent
    for prerequisite in plan.prerequisites:       # single-flight per key; 201/409 = fulfilled
        Wait(flight) | Send(create) [Sleep, Send]...
    Send(plan.request) [Sleep, Send]...           # retried only when nothing can be duplicated
    response = migrator.finish(plan, answer)      # what it asks for → plan.needs
    if plan.needs:                                # R10 autocreate_users: 404 for an unknown user
        Send(create identity)...                  # 201 → send the request once more
        Send(plan.request)...                     # (409: the user existed — the 404 stands)
    return Outcome(response, ...)

Every upstream answer the flow does not hand back to the client is released (a streamed body
returns its connection to the pool) before the next step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from ..errors import LayerError
from ..exchange import Request, Response
from .migrator import (
    Flight,
    Migrator,
    Outcome,
    Plan,
    UpstreamFailure,
    error_response,
    upstream_error,
)


@dataclass(slots=True)
class Send:
    """Send ``request`` upstream; resume with its Response or throw the UpstreamFailure.

    ``raw``: a pass-through request — its answer's bytes go back to the client untouched, so the
    driver need not parse them.
    """

    request: Request
    raw: bool = False


@dataclass(slots=True)
class Sleep:
    """Back off before another attempt."""

    seconds: float


@dataclass(slots=True)
class Wait:
    """Another exchange is fulfilling the same prerequisite: resume with True once it has
    landed, or with False after ``timeout`` seconds (or at once when waiting would block the
    thread the fulfilment runs on)."""

    flight: Flight
    timeout: float


Step = Send | Sleep | Wait
#: What :func:`exchange` is: yields steps, is resumed with Responses, returns the Outcome.
Flow = Generator[Step, Any, Outcome]


def exchange(m: Migrator, req: Request, backoff: float | None = None) -> Flow:
    """The whole exchange for one client request (see the module docstring for its shape).

    ``backoff``: seconds before attempt n+1 = ``backoff * n`` (default: the migrator's).
    """
    if backoff is None:
        backoff = m.backoff
    try:
        plan = m.plan(req)
    except LayerError as exc:
        return Outcome(error_response(exc), None, error=f"refused: {exc.id}")
    if plan.prerequisites and not m.report_only:
        err, _ = yield from _fulfil(m, plan, plan.prerequisites, backoff)
        if err is not None:
            return Outcome(error_response(err), plan, error=f"prerequisite: {err.id}")
    attempts, seconds = 0, 0.0  # of the client's own request, for logs and metrics
    for final in (False, True):
        answer, n, spent = yield from _attempts(m, plan.request, plan.retryable, backoff, plan.passthrough)
        attempts, seconds = attempts + n, seconds + spent
        if isinstance(answer, UpstreamFailure):
            return Outcome(error_response(upstream_error(answer)), plan, attempts, seconds,
                           error=f"upstream: {answer.kind}")
        try:
            out = m.finish(plan, answer)
        except LayerError as exc:
            _discard(answer)
            return Outcome(error_response(exc), plan, attempts, seconds, error=f"response: {exc.id}")
        needs = plan.needs
        if final or not needs or m.report_only:
            break
        # R10: the answer says what must exist upstream first. The cache may remember it as
        # done, but the upstream just said otherwise, so fulfil it afresh.
        err, created = yield from _fulfil(m, plan, needs, backoff, fresh=True)
        if err is not None:
            _discard(answer)
            return Outcome(error_response(err), plan, attempts, seconds, error=f"prerequisite: {err.id}")
        if not created:
            break  # it existed already: the 404 was about something else and stands
        _discard(answer)
    return Outcome(out, plan, attempts, seconds)


def _attempts(m: Migrator, request: Request, retryable: bool, backoff: float, raw: bool = False
              ) -> Generator[Step, Any, tuple[Response | UpstreamFailure, int, float]]:
    """Send ``request`` until it is answered or may not be repeated (back-off between tries).

    Returns (the answer or the last failure, attempts made, seconds spent waiting upstream).
    """
    attempt = 0
    spent = 0.0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            resp: Response = yield Send(request, raw)
        except UpstreamFailure as failure:
            spent += time.perf_counter() - started
            if m.may_repeat(retryable, attempt, failure):
                yield Sleep(backoff * attempt)
                continue
            return failure, attempt, spent
        spent += time.perf_counter() - started
        if m.may_repeat(retryable, attempt, None, resp.status):
            _discard(resp)
            yield Sleep(backoff * attempt)
            continue
        return resp, attempt, spent


def _fulfil(m: Migrator, plan: Plan, prereqs: list[Any], backoff: float, *, fresh: bool = False
            ) -> Generator[Step, Any, tuple[LayerError | None, bool]]:
    """Make ``prereqs`` true upstream, once per key per migrator (single-flight).

    Returns (error for the client or None, whether anything was fulfilled by a create rather
    than found existing). ``fresh``: ignore what the cache remembers as done.
    """
    cache = m.prereqs
    created = False
    for prereq in prereqs:
        key = m.prerequisite_key(prereq, plan)
        if fresh:
            cache.forget(key)
        while key not in cache.done:
            mine, pending = cache.begin(key)
            flight: Flight | None = pending
            if not mine:
                if (yield Wait(pending, m.prerequisite_wait)):
                    created = created or fresh  # fulfilled by someone else: assume it helped
                    continue
                flight = None  # it did not land in time: fulfil it here too (idempotent)
            status: int | None = None
            try:
                # idempotent upstream (201 created / 409 exists): always safe to repeat
                answer, _, _ = yield from _attempts(m, m.prerequisite_request(prereq, plan), True, backoff)
                if isinstance(answer, UpstreamFailure):
                    return upstream_error(answer), created
                _discard(answer)
                err = m.prerequisite_result(prereq, answer)
                if err is not None:
                    return err, created
                status = answer.status
                created = created or status != 409
            finally:
                cache.end(key, flight, status)
    return None, created


def _discard(resp: Response) -> None:
    """Give a response the flow will not answer with back to its client (streams hold a
    connection until released; buffered responses have nothing to release)."""
    release = getattr(resp, "release", None)
    if release is not None:
        release()


# ---------------------------------------------------------------------------------------------
# Drivers: the same flow, called or awaited. ``send`` raises UpstreamFailure; ``send_raw`` (when
# given) sends pass-through requests whose answers are not parsed.

SyncSend = Callable[[Request], Response]
AsyncSend = Callable[[Request], Awaitable[Response]]


def run_sync(m: Migrator, req: Request, send: SyncSend, backoff: float | None = None, *,
             send_raw: SyncSend | None = None) -> Outcome:
    """One client request through the flow with a blocking ``send`` (httpx.Client, requests)."""
    flow = exchange(m, req, backoff)
    reply: Any = None
    try:
        while True:
            step = flow.throw(reply) if isinstance(reply, UpstreamFailure) else flow.send(reply)
            reply = None
            if isinstance(step, Send):
                try:
                    reply = (send_raw if step.raw and send_raw is not None else send)(step.request)
                except UpstreamFailure as failure:
                    reply = failure
            elif isinstance(step, Sleep):
                time.sleep(step.seconds)
            else:
                reply = step.flight.wait(step.timeout)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except BaseException:  # cancelled, or a bug: let the flow release what it holds
        flow.close()
        raise


async def run_async(m: Migrator, req: Request, send: AsyncSend, backoff: float | None = None, *,
                    send_raw: AsyncSend | None = None) -> Outcome:
    """:func:`run_sync` awaited (the proxy, httpx.AsyncClient)."""
    flow = exchange(m, req, backoff)
    reply: Any = None
    try:
        while True:
            step = flow.throw(reply) if isinstance(reply, UpstreamFailure) else flow.send(reply)
            reply = None
            if isinstance(step, Send):
                try:
                    reply = await (send_raw if step.raw and send_raw is not None else send)(step.request)
                except UpstreamFailure as failure:
                    reply = failure
            elif isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
            else:
                reply = await step.flight.wait_async(step.timeout)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except BaseException:  # cancelled, or a bug: let the flow release what it holds
        flow.close()
        raise
