"""One upstream body policy for every client (fastclient, aiohttp, httpx transport, requests).

The clients used to decide differently when to stream a body and whether to decode it, and one
of them forwarded gzip bytes with ``Content-Encoding`` removed (issue 13). The rules, once:

* **Final status**: 200–599 only (1xx are interim and never complete an exchange); anything
  else is :class:`UpstreamFailure` ``bad_status`` → 502.
* **Stream or buffer**: non-JSON bodies larger than :data:`STREAM_THRESHOLD` (or of unknown
  length) are streamed to the client *as received* — bytes and ``Content-Encoding`` unchanged,
  so the proxy never inflates what it does not need to read. Everything else is buffered.
* **Buffered bodies are bounded**: at most ``max_body`` bytes on the wire and after decoding;
  gzip/deflate is decoded (and the header removed) with a ratio bound as well — a bomb is
  ``too_large`` → 502, never RSS. Report-only mode alone decodes nothing (byte for byte).
* **Headers**: repeated ``Set-Cookie`` fields stay separate (joined with ``\\n``, which no
  header value can contain, and split again on the way out); other repeats fold with ``", "``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from .http import is_json_type
from .migrator import UpstreamFailure

#: Non-JSON bodies above this size (or of unknown size) are streamed, not buffered.
STREAM_THRESHOLD = 64 * 1024
#: Separator of repeated Set-Cookie values inside the one dict entry (never valid in a value).
COOKIE_SEP = "\n"
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(frozen=True)
class BodyLimits:
    """Bounds on what a client buffers from the upstream."""

    #: largest buffered upstream body, on the wire and after decoding (bytes)
    max_body: int = 64 * 1024 * 1024
    #: largest decoded/encoded size ratio, once the decoded body exceeds ``ratio_floor``
    max_ratio: int = 100
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = BodyLimits()


def check_status(status: int) -> None:
    """Raise ``bad_status`` for a final status outside 200–599 (999, or a stray 1xx)."""
    if not 200 <= status <= 599:
        raise UpstreamFailure("bad_status", f"upstream answered status {status}")


def streamable(method: str, status: int, headers: dict[str, str]) -> bool:
    """Whether this answer's body is streamed (large or unknown-length non-JSON)."""
    if method == "HEAD" or status in (204, 304) or status < 200:
        return False
    ct = headers.get("content-type")
    if ct is not None and is_json_type(ct):
        return False
    cl = headers.get("content-length")
    if cl is None or not cl.isdigit():
        return "transfer-encoding" in headers or ct is not None
    return int(cl) > STREAM_THRESHOLD


def check_length(size: int, limits: BodyLimits = DEFAULT_LIMITS) -> None:
    """Raise ``too_large`` once a buffered body grows past the limit."""
    if size > limits.max_body:
        raise UpstreamFailure("too_large", f"upstream body larger than {limits.max_body} bytes")


def decode(headers: dict[str, str], raw: bytes, limits: BodyLimits = DEFAULT_LIMITS
           ) -> tuple[dict[str, str], bytes]:
    """Decode a gzip/deflate body within ``limits``; returns headers without Content-Encoding.

    Unknown encodings (br, zstd) are left as they are, header included. Raises
    :class:`UpstreamFailure` ``too_large`` (bomb) or ``reset`` (corrupt data).
    """
    enc = headers.get("content-encoding", "").strip().lower()
    wbits = _DECODERS.get(enc)
    if wbits is None or not raw:
        if enc in _DECODERS or enc == "identity":
            headers = {k: v for k, v in headers.items() if k != "content-encoding"}
        return headers, raw
    bound = min(limits.max_body, max(limits.ratio_floor, len(raw) * limits.max_ratio))
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(raw, bound + 1)
    except zlib.error:
        raise UpstreamFailure("reset", "undecodable compressed body") from None
    if len(out) > bound or d.unconsumed_tail:
        raise UpstreamFailure("too_large", f"compressed upstream body inflates past {bound} bytes")
    if not d.eof:
        raise UpstreamFailure("reset", "truncated compressed body")
    return {k: v for k, v in headers.items() if k != "content-encoding"}, out


def fold(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header pairs (any case) → the lower-case dict the engine sees; Set-Cookie kept apart."""
    out: dict[str, str] = {}
    for k, v in pairs:
        key = k.lower()
        if key in out:
            out[key] = f"{out[key]}{COOKIE_SEP if key == 'set-cookie' else ', '}{v}"
        else:
            out[key] = v
    return out


def expand(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """The dict as ASGI header pairs, one ``set-cookie`` field per cookie."""
    cookies = headers.get("set-cookie")
    if cookies is None or COOKIE_SEP not in cookies:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    out: list[tuple[bytes, bytes]] = []
    for k, v in headers.items():
        if k == "set-cookie" and COOKIE_SEP in v:
            out.extend((b"set-cookie", c.encode("latin-1")) for c in v.split(COOKIE_SEP))
        else:
            out.append((k.encode("latin-1"), v.encode("latin-1")))
    return out
