"""The upstream body policy (:mod:`.bodypolicy`) applied to httpx and urllib3 responses.

The in-process faces (httpx transport, requests adapter) get their answers from httpcore and
urllib3. Both decode gzip without a bound and both trust their own framing; measured with the
hostile matrix (``tests/proxy/test_proxy_hostile_matrix.py``):

* httpcore/h11 keep bytes that arrived beyond a complete answer (an extra response, trailing
  garbage, a body on a 204/304, more bytes than Content-Length) in the connection's receive
  buffer, and the *next* request on that pooled connection reads them as its answer.
  :func:`discard_desynced` closes such connections after every exchange.
* http.client (under urllib3) treats 102/103 as a final answer with an empty body, leaving the
  real answer in the buffer for the next request: the connection is closed and the exchange
  refused (``bad_status`` → 502), never reused.

Raw bytes are read (no library decoding) within the body limit and decoded by the policy.
"""

from __future__ import annotations

from typing import Any

from ..exchange import Response
from .bodypolicy import DEFAULT_LIMITS, BodyLimits, check_length, check_status, decode, fold
from .http import parse_response_body


def _finish(status: int, headers: dict[str, str], raw: bytes, limits: BodyLimits,
            parse: bool = True) -> Response:
    headers, raw = decode(headers, raw, limits)
    if not parse:  # pass-through: bytes (decoded within the limits), never parsed
        return Response(status, headers, None, raw or None)
    body, rest = parse_response_body(headers, raw)
    return Response(status, headers, body, rest)


def read_httpx(resp: Any, limits: BodyLimits = DEFAULT_LIMITS, parse: bool = True) -> Response:
    """An open ``httpx.Response`` (sent with ``stream=True`` semantics) → exchange Response."""
    check_status(resp.status_code)
    headers = fold((k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.headers.raw)
    chunks, size = [], 0
    for chunk in resp.iter_raw():
        size += len(chunk)
        check_length(size, limits)
        chunks.append(chunk)
    return _finish(resp.status_code, headers, b"".join(chunks), limits, parse)


async def aread_httpx(resp: Any, limits: BodyLimits = DEFAULT_LIMITS, parse: bool = True) -> Response:
    """:func:`read_httpx` for ``httpx.AsyncClient`` responses."""
    check_status(resp.status_code)
    headers = fold((k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.headers.raw)
    chunks, size = [], 0
    async for chunk in resp.aiter_raw():
        size += len(chunk)
        check_length(size, limits)
        chunks.append(chunk)
    return _finish(resp.status_code, headers, b"".join(chunks), limits, parse)


def discard_desynced(transport: Any) -> None:
    """Close pooled httpcore HTTP/1.1 connections that hold bytes no request asked for.

    Reads h11's ``trailing_data`` (bytes received beyond the last complete event) through
    httpcore's connection objects — private attributes, so every step is optional: an
    unknown shape simply skips the check, and the hostile matrix fails loudly if it does.
    """
    pool = getattr(transport, "_pool", None)
    for conn in list(getattr(pool, "connections", ()) or ()):
        h11conn = getattr(getattr(conn, "_connection", None), "_h11_state", None)
        trailing = getattr(h11conn, "trailing_data", None)
        if trailing is not None and trailing[0]:
            conn.close()


async def adiscard_desynced(transport: Any) -> None:
    """:func:`discard_desynced` for ``httpx.AsyncHTTPTransport`` pools."""
    pool = getattr(transport, "_pool", None)
    for conn in list(getattr(pool, "connections", ()) or ()):
        h11conn = getattr(getattr(conn, "_connection", None), "_h11_state", None)
        trailing = getattr(h11conn, "trailing_data", None)
        if trailing is not None and trailing[0]:
            await conn.aclose()


def read_urllib3(resp: Any, limits: BodyLimits = DEFAULT_LIMITS, parse: bool = True) -> Response:
    """A ``requests.Response`` sent with ``stream=True`` → exchange Response (connection
    released to the pool only after a complete, well-framed answer)."""
    raw = resp.raw
    if resp.status_code < 200:
        # http.client handed over an interim answer as final; the real one is still buffered.
        conn = getattr(raw, "connection", None)
        if conn is not None:
            conn.close()
        resp.close()
        check_status(resp.status_code)
    try:
        check_status(resp.status_code)
        headers = {k.lower(): v for k, v in resp.headers.items()}  # requests folds Set-Cookie
        cl = headers.get("content-length")
        if cl is not None and cl.isdigit():
            check_length(int(cl), limits)
        chunks, size = [], 0
        for chunk in raw.stream(1 << 16, decode_content=False):
            size += len(chunk)
            check_length(size, limits)
            chunks.append(chunk)
    except BaseException:
        conn = getattr(raw, "connection", None)
        if conn is not None:
            conn.close()
        resp.close()
        raise
    resp.close()
    return _finish(resp.status_code, headers, b"".join(chunks), limits, parse)
