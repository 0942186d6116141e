"""HTTP hygiene shared by the proxy and the in-process adapters.

Hop-by-hop headers (RFC 9110 §7.6.1, plus every name listed in ``Connection``) belong to one
connection and must not cross the proxy; lengths and encodings are recomputed for the body the
proxy actually sends. Bodies are JSON (parsed with orjson, for speed on the hot path) or opaque
bytes that travel unchanged (rich content, spec §8).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import LayerError
from ..versions import media_type_of

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "proxy-connection",
})
#: Never forwarded upstream: the proxy owns the connection, the length and the compression.
REQUEST_DROP = HOP_BY_HOP | {"host", "content-length", "accept-encoding", "expect"}
#: Never copied back to the client: recomputed for the body the proxy sends (in-process faces:
#: their HTTP client has decoded the body already).
RESPONSE_DROP = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server"}
#: The proxy's own drop list: ``Content-Encoding`` stays, because the upstream clients remove
#: it exactly when they decode (:mod:`.bodypolicy`) — a body relayed encoded keeps its label.
PROXY_RESPONSE_DROP = HOP_BY_HOP | {"content-length", "date", "server"}
#: JSON nested deeper than this cannot be serialised again (orjson's limit is 254 levels):
#: requests → 400 Layer error (checked before sending); an upstream answer that deep → 502
#: when the proxy re-serialises it (no per-response walk on the hot path).
MAX_JSON_DEPTH = 250
#: Report-only mode forwards every other field byte for byte (both directions): only what
#: belongs to one connection and its framing is the proxy's. ``date``/``server`` of an answer
#: are uvicorn's (it always writes its own).
VERBATIM_DROP = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection",
                           b"keep-alive", b"proxy-connection", b"upgrade"})
VERBATIM_RESPONSE_DROP = VERBATIM_DROP | {b"date", b"server"}
#: Never written to a log.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie",
                            "layer-webhook-signature", "x-api-key"})


def strip_hop_by_hop(headers: dict[str, str], drop: frozenset[str]) -> dict[str, str]:
    """``headers`` without ``drop`` and without the names listed in their ``Connection``."""
    extra = headers.get("connection")
    named = {h.strip().lower() for h in extra.split(",")} if extra else set()
    return {k: v for k, v in headers.items() if k not in drop and k not in named}


def is_json_type(content_type: str | None) -> bool:
    """JSON media types: application/json and ``+json`` (Layer, Layer-Patch, its ``.json`` typo).

    Memoised per header value (a fleet sends a handful; bounded): called several times per
    request on the hot path.
    """
    if content_type is None:
        return False
    known = _JSON_TYPES.get(content_type)
    if known is not None:
        return known
    mt = media_type_of(content_type)
    known = mt == "application/json" or mt.endswith("+json") or mt == "application/vnd.layer-patch.json"
    if len(_JSON_TYPES) < 256:
        _JSON_TYPES[content_type] = known
    return known


_JSON_TYPES: dict[str, bool] = {}


def parse_request_body(headers: dict[str, str], raw: bytes, json_endpoint: bool = False
                       ) -> tuple[Any, bytes | None]:
    """(parsed JSON body or None, raw bytes or None) of a client request.

    A JSON content type, or any body sent to a known (JSON) Platform endpoint, must parse — else
    ``400 invalid_request``, as the API itself answers (the emulator ignores the declared type
    and so does the proxy: a JSON body labelled ``text/plain`` is still JSON). A body without a
    content type is parsed when it is JSON; other bodies on unknown endpoints stay raw (rich
    content, spec §8).
    """
    if not raw:
        return None, None
    ct = headers.get("content-type")
    must = json_endpoint or is_json_type(ct)
    if must or ct is None:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if not must:
                return None, raw
            raise LayerError("invalid_request", f"Request body is not valid JSON: {exc}",
                             status=400) from None
        if too_deep(raw, body):
            raise LayerError("invalid_request", f"Request body nests JSON deeper than {MAX_JSON_DEPTH} "
                             "levels", status=400, data={"max_depth": MAX_JSON_DEPTH})
        return body, None
    return None, raw


def too_deep(raw: bytes, body: Any) -> bool:
    """Whether ``body`` (parsed from ``raw``) nests deeper than :data:`MAX_JSON_DEPTH`.

    The bracket count is a C-speed upper bound on the depth, so ordinary bodies never pay for
    the walk.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return False
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


def parse_response_body(headers: dict[str, str], raw: bytes) -> tuple[Any, bytes | None]:
    """(parsed JSON, None) for JSON responses, else (None, raw). Unparsable JSON stays raw."""
    if not raw:
        return None, None
    if is_json_type(headers.get("content-type")):
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError:
            return None, raw
    return None, raw


def body_bytes(body: Any, raw: bytes | None) -> bytes:
    """The bytes to send for a (body, raw) pair: the JSON body wins, else raw, else nothing."""
    if body is not None:
        return orjson.dumps(body)
    return raw or b""


def redact(headers: dict[str, str]) -> dict[str, str]:
    """Headers safe to log: secrets replaced by ``<redacted>``."""
    return {k: ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
