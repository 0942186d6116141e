"""Migration without a proxy process: a requests transport adapter.

::

    import requests
    from layer_migrate.proxy import MigratingAdapter

    session = requests.Session()
    session.mount("https://api.layer.com/", MigratingAdapter(upstream_version="3.0"))
    session.post(...)          # v1 calls, unchanged; 3.0 on the wire

Same exchange flow as the proxy and the httpx transport (:mod:`.flow`); the adapter's
own ``send`` of the parent :class:`requests.adapters.HTTPAdapter` does the I/O, so pooling, TLS
verification, certificates and timeouts passed to ``session.request`` apply as usual.
``rules=[dir, ...]``, ``engine=`` and ``migrator=`` as for the httpx transport.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from ..exchange import Request, Response
from ..identity import BotDirectory
from .client_bodies import read_urllib3
from .flow import run_sync
from .http import REQUEST_DROP, RESPONSE_DROP, body_bytes, strip_hop_by_hop
from .migrator import Migrator, UpstreamFailure

if TYPE_CHECKING:
    from ..engine import Engine


def _failure(exc: requests.RequestException) -> UpstreamFailure:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return UpstreamFailure("connect_timeout", str(exc))
    if isinstance(exc, requests.exceptions.Timeout):
        return UpstreamFailure("timeout", str(exc))
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc.args[0]) if exc.args else ""
        if "NewConnectionError" in text or "Failed to establish" in text:
            return UpstreamFailure("connect", str(exc))
        return UpstreamFailure("reset", type(exc).__name__)
    return UpstreamFailure("reset", type(exc).__name__)


class MigratingAdapter(HTTPAdapter):
    """Mount on a session prefix; v1 requests are translated to ``upstream_version``."""

    def __init__(self, upstream_version: str = "3.0", *, upstream: str | None = None,
                 bots: BotDirectory | None = None, options: Any = None, add_dedupe: bool = True,
                 retries: int = 2, engine_options: dict[str, Any] | None = None,
                 engine: Engine | None = None, rules: Iterable[str | Path] = (), backoff: float = 0.05,
                 migrator: Migrator | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.migrator = migrator or Migrator(upstream_version, options=options, bots=bots,
                                             add_dedupe=add_dedupe, retries=retries,
                                             engine_options=engine_options, engine=engine,
                                             rules=rules, backoff=backoff)
        self.upstream = upstream.rstrip("/") if upstream else None

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        url = urlsplit(request.url or "")
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = {k.lower(): v if isinstance(v, str) else v.decode("latin-1")
                   for k, v in (request.headers or {}).items()}
        raw = request.body
        if hasattr(raw, "read"):
            raw = raw.read()  # type: ignore[union-attr]
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        raw_bytes: bytes = raw or b""  # type: ignore[assignment]
        # body unparsed: the flow parses it once, only to translate it
        req = Request(request.method or "GET", path, headers, None, raw_bytes or None)
        if self.upstream:
            base = urlsplit(self.upstream)
            scheme, netloc, prefix = base.scheme, base.netloc, base.path.rstrip("/")
        else:
            scheme, netloc, prefix = url.scheme, url.netloc, ""

        def send_one(r: Request, parse: bool = True) -> Response:
            p = requests.PreparedRequest()
            rp, _, q = r.path.partition("?")
            p.method = r.method
            p.url = urlunsplit((scheme, netloc, prefix + rp, q, ""))
            p.headers = CaseInsensitiveDict(strip_hop_by_hop(r.headers, REQUEST_DROP))
            data = body_bytes(r.body, r.raw)
            p.body = data or None
            if data or r.method in ("POST", "PUT", "PATCH"):
                p.headers["Content-Length"] = str(len(data))
            try:
                resp = super(MigratingAdapter, self).send(p, stream=True, timeout=timeout,
                                                          verify=verify, cert=cert, proxies=proxies)
                return read_urllib3(resp, parse=parse)  # the one body policy (bodypolicy.py)
            except requests.RequestException as exc:
                raise _failure(exc) from None
            except Exception as exc:  # urllib3 errors while streaming the raw body
                if type(exc).__module__.startswith("urllib3"):
                    raise UpstreamFailure("reset", type(exc).__name__) from None
                raise

        outcome = run_sync(self.migrator, req, send_one, send_raw=lambda r: send_one(r, parse=False))
        return self._answer(outcome.response, request)

    def _answer(self, resp: Response, request: requests.PreparedRequest) -> requests.Response:
        out = requests.Response()
        out.status_code = resp.status
        headers = strip_hop_by_hop(resp.headers, RESPONSE_DROP)
        content = body_bytes(resp.body, resp.raw)
        if resp.body is not None and "content-type" not in headers:
            headers["content-type"] = "application/json; charset=UTF-8"
        headers["content-length"] = str(len(content))
        out.headers = CaseInsensitiveDict(headers)
        out._content = content
        out._content_consumed = True
        out.encoding = get_encoding_from_headers(out.headers)
        out.url = request.url or ""
        out.request = request
        out.reason = requests.status_codes._codes.get(resp.status, ("",))[0].upper().replace("_", " ")  # type: ignore[attr-defined]
        out.connection = self
        return out
