"""Per-request context, replies and the transport helpers every handler shares (spec §1).

Handlers are plain synchronous functions ``handler(ctx) -> Reply``: they run on the event loop
inside one store transaction, which is what makes concurrent clients safe without extra locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from ..errors import LayerError, invalid_property, invalid_request
from ..versions import is_v1

if TYPE_CHECKING:
    from .render import Renderer
    from .settings import Settings
    from .store import Store

#: Deepest JSON nesting accepted in a request body: orjson cannot serialise past 254 levels, so a
#: deeper body stored as metadata would fail later as a 500 (issue 11); nothing Layer documents
#: nests beyond a handful of levels.
MAX_JSON_DEPTH = 64

#: Default and maximum ``page_size`` (§1.7); Following/identities lists use 500.
DEFAULT_PAGE = 100
FOLLOWING_PAGE = 500


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """Everything a handler may look at. ``params`` are percent-decoded path parameters."""

    settings: Settings
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    version: str
    endpoint: str
    params: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)
    _json: Any = None
    _parsed: bool = False

    @property
    def v1(self) -> bool:
        return is_v1(self.version)

    @property
    def lenient(self) -> bool:
        return self.settings.lenient

    @property
    def store(self) -> Store:
        return self.settings.store

    @property
    def render(self) -> Renderer:
        return self.settings.renderer

    def since(self, key: str) -> bool:
        """Whether the dated change ``key`` (timeline.py) is in effect for this request."""
        return self.settings.timeline.since(key, self.version)

    def json(self, *, required: bool = True) -> Any:
        """The parsed JSON body; 400 ``invalid_request`` when it is not JSON (never a 500)."""
        if not self._parsed:
            self._parsed = True
            if not self.raw.strip():
                if required:
                    raise invalid_request("Request body is empty; a JSON body is required.")
                self._json = None
            else:
                try:
                    self._json = orjson.loads(self.raw)
                except orjson.JSONDecodeError as exc:
                    raise invalid_request(f"Request body is not valid JSON: {exc}") from None
                if _too_deep(self._json, MAX_JSON_DEPTH):
                    raise invalid_request(f"Request body nests deeper than {MAX_JSON_DEPTH} levels.",
                                          data={"max_depth": MAX_JSON_DEPTH})
        return self._json

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise invalid_request("Request body must be a JSON object.")
        return body

    def emit(self, kind: str, **data: Any) -> None:
        """Queue a webhook event; rendered for each subscribed webhook when the request commits."""
        self.events.append({"kind": kind, **data})


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def parse_query(qs: bytes) -> dict[str, str]:
    return dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True))


def page_params(ctx: Ctx, default: int = DEFAULT_PAGE) -> tuple[int, str | None]:
    """``page_size`` (1…default) and ``from_id`` of §1.7."""
    raw = ctx.query.get("page_size")
    size = default
    if raw is not None:
        try:
            size = int(raw)
        except ValueError:
            raise invalid_property("page_size", f"page_size must be an integer between 1 and {default}") from None
        if not 1 <= size <= default:
            raise invalid_property("page_size", f"page_size must be an integer between 1 and {default}")
    from_id = ctx.query.get("from_id") or None
    return size, from_id


def paginate(items: list[Any], ids: list[str], ctx: Ctx, default: int = DEFAULT_PAGE) -> tuple[list[Any], dict[str, str]]:
    """Slice ``items`` (already in list order) after ``from_id``; returns the page and the
    ``Layer-Count`` header (the total before paging). An unknown ``from_id`` is a 422."""
    size, from_id = page_params(ctx, default)
    start = 0
    if from_id is not None:
        try:
            start = ids.index(from_id) + 1
        except ValueError:
            raise invalid_property("from_id", f"from_id {from_id!r} does not name an object in this list") from None
    return items[start:start + size], {"layer-count": str(len(items))}


def error_reply(err: LayerError) -> Reply:
    return Reply(err.status, err.to_json(), dict(err.headers))
