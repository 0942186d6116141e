"""Runs the before/after examples rules declare, against an engine.

Used by the rulebook tests and ``layer-migrate validate``. It needs an engine to run anything, so it
lives in the engine package (the rulebook only *declares* examples: it never imports the engine).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import routes
from ..errors import LayerError
from ..exchange import Request, Response
from ..identity import BotDirectory
from ..options import Options
from ..rulebook import Example, Rule
from ..versions import accept_header
from ..webhook_events import sign
from .api import default_engine

if TYPE_CHECKING:
    from .chain import Engine

__all__ = ["run_example"]


def _example_options(ex: Example) -> Options:
    kw = dict(ex.options)
    if "bots" in kw:
        kw["bots"] = BotDirectory(dict(kw["bots"]))
    return Options(**kw)


def _endpoint(ex: Example) -> routes.Endpoint:
    if ex.endpoint is None:
        raise ValueError(f"a {ex.kind} example needs an endpoint")
    return routes.BY_NAME[ex.endpoint]


def _example_path(ex: Example) -> str:
    if ex.path:
        return ex.path
    endpoint = _endpoint(ex)
    return routes.build_path(endpoint.name, **{k: k.upper()[0] for k in
                                               re.findall(r"\{(\w+)\}", endpoint.template)})


def run_example(rule: Rule, ex: Example, engine: Engine | None = None) -> str | None:
    """Run one rule example; None when it holds, else a one-line description of the mismatch."""
    if engine is None:
        engine = default_engine()
    options = _example_options(ex)
    try:
        if ex.kind == "request":
            method = ex.method or _endpoint(ex).method
            up = ex.way == "up"
            source = ex.source or ("1.1" if up else rule.step[1])
            target = ex.target or (rule.step[1] if up else "1.1")
            headers = dict(ex.headers) if ex.headers is not None else {"accept": accept_header(source)}
            req = Request(method, _example_path(ex), headers, ex.before)
            t = engine.translate_request(req, target, source, options)
            got: Any = t.request.body
            extra = []
            if ex.after_method and t.request.method != ex.after_method:
                extra.append(f"method {t.request.method} != {ex.after_method}")
            if ex.after_path and t.request.path != ex.after_path:
                extra.append(f"path {t.request.path} != {ex.after_path}")
            for k, v in (ex.after_headers or {}).items():
                if t.request.headers.get(k) != v:
                    extra.append(f"header {k}: {t.request.headers.get(k)!r} != {v!r}")
            if rule.facts and rule.id not in t.applied and ex.after != ex.before:
                extra.append(f"rule not in applied {t.applied}")
        elif ex.kind == "response":
            method = ex.method or _endpoint(ex).method
            source = ex.source or rule.step[1]
            target = ex.target or "1.1"
            req = Request(method, _example_path(ex), {"accept": accept_header(target)}, ex.request_body)
            resp = Response(ex.status or 200, ex.headers or {}, ex.before)
            r = engine.translate_response(req, resp, source, target, options)
            got = r.response.body
            extra = []
            if ex.after_status is not None and r.response.status != ex.after_status:
                extra.append(f"status {r.response.status} != {ex.after_status}")
            for k, v in (ex.after_headers or {}).items():
                if r.response.headers.get(k) != v:
                    extra.append(f"header {k}: {r.response.headers.get(k)!r} != {v!r}")
        elif ex.kind == "sign":
            got, extra = sign(ex.before["secret"], ex.before["raw"].encode("utf-8")), []
        elif ex.kind == "delivery":
            w = engine.translate_webhook(ex.before["type"], ex.before["body"], ex.source or "3.0",
                                         ex.target or "1.0", options)
            got, extra = [{"type": t, "body": b} for t, b in w.events], []
        else:
            source = ex.source or rule.step[1]
            target = ex.target or "1.1"
            p = engine.translate_payload(ex.kind, ex.before, source, target, options)
            got, extra = p.payload, []
    except LayerError as exc:
        if ex.error is not None and exc.id == ex.error:
            return None
        return f"raised LayerError {exc.id}: {exc.message}"
    if ex.error is not None:
        return f"expected LayerError {ex.error}, got {got!r}"
    if got != ex.after:
        extra.insert(0, f"body {got!r} != {ex.after!r}")
    return "; ".join(extra) or None
