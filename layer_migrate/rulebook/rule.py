"""The :class:`Rule` every module in ``layer_migrate/rules/`` instantiates, and its examples.

One documented API change = one :class:`Rule` (spec §14, R01–R54). A rule says *what* changed
(declared :mod:`layer_migrate.facts`, read by the engine **and** the codemod) and, where a
declaration cannot say it, registers small code hooks. Rules carry their own examples, which the
test suite runs and ``layer-migrate rules`` prints (the idea of Fixit's VALID/INVALID cases and
Cadwyn's version changes).

Hooks come in four flavours, by what they see:

* ``@rule.request_up`` / ``@rule.request_down`` — ``fn(ctx) -> bool``: the whole request being
  translated (method, path, headers, body) in a :class:`Context`; return True when it changed
  something (the rule id then appears in ``applied``).
* ``@rule.response_down`` / ``@rule.response_up`` — ``fn(ctx) -> bool`` on a response (status,
  headers, body; ``ctx.request`` is the client's original request).
* ``@rule.accept_up`` — a request hook that only reads/writes ``ctx.headers["accept"]`` (R04); the
  engine folds these into one phase cached per Accept value.
* ``@rule.object_down(kind)`` / ``@rule.object_up(kind)`` — ``fn(obj, ctx) -> obj`` on one API
  object (``message``, ``conversation``, ``announcement``, ``identity``, ``block``, ``user``,
  ``webhook``) wherever it appears: responses, 409 error data, webhook deliveries, stored payloads.
  Return the same object when nothing changed, a new one otherwise (never mutate the input).

The loader (:mod:`.loader`) checks each rule when it is loaded (:func:`.loader.check_rule`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..facts import (
    Fact,
    FieldAction,
    FieldFact,
    MediaTypeFact,
    PatchOpFact,
    ResponseReadFact,
    RouteFact,
    WebhookFact,
    WebhookPart,
)
from ..versions import STEPS
from .context import ALL_STEPS, Hook, ObjectHook, Step, Way
from .objects import OBJECT_KINDS, endpoints_returning

__all__ = ["Example", "Rule", "spec_number", "step_label", "step_rank"]

#: What ``direction`` may say (documentation of where the rule acts; checked against its hooks).
DIRECTIONS: tuple[str, ...] = ("request", "response", "both", "webhook")


@dataclass
class Example:
    """A before → after pair the test suite runs and ``layer-migrate rules`` prints.

    ``kind``: ``"request"`` (body of ``endpoint``, translated up unless ``way="down"``),
    ``"response"`` (``status``/body of ``endpoint``, translated down), or an object kind
    (payload translation). ``error`` instead of ``after`` = the translation must refuse with a
    Layer error of that id. ``source``/``target`` default to the rule's step (whole v1 → target for
    requests: ``1.1 → step[1]``).
    """

    kind: str
    before: Any
    after: Any = None
    endpoint: str | None = None
    way: Way = "up"
    source: str | None = None
    target: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    after_status: int | None = None
    after_method: str | None = None
    after_path: str | None = None
    error: str | None = None
    #: request headers (``kind="request"``) / response headers (``"response"``) before translation.
    headers: dict[str, str] | None = None
    #: headers the translated message must carry (subset check).
    after_headers: dict[str, str] | None = None
    #: the original v1 request body for response examples (R53 events round trip).
    request_body: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""


_SPEC_ORDER_CACHE: dict[str, int] = {}


def spec_number(spec: str) -> int:
    """``"R14/R15"`` → 14: the first catalogue number, for ordering rules inside a step."""
    if spec not in _SPEC_ORDER_CACHE:
        digits = "".join(ch for ch in spec.split("/")[0] if ch.isdigit())
        _SPEC_ORDER_CACHE[spec] = int(digits) if digits else 999
    return _SPEC_ORDER_CACHE[spec]


class Rule:
    """One documented change (spec §14). See the module docstring for hooks.

    ``step`` is the version step that made the change (``("1.1", "2.0")``); the engine applies the
    rule whenever a translation crosses that step. ``endpoints`` are endpoint names from
    :mod:`layer_migrate.routes` (``{"*"}`` = every endpoint). ``direction`` is documentation
    (``"request"``, ``"response"``, ``"both"``, ``"webhook"``); hooks decide what actually runs.
    ``order`` breaks ties inside a step (default: the spec number; validation rules use a lower one).
    """

    def __init__(self, id: str, *, spec: str, step: Step, endpoints: Iterable[str] = (),
                 direction: str = "both", lossy: str | None = None, order: int | None = None,
                 doc: str | None = None) -> None:
        if tuple(step) not in STEPS and tuple(step) != ALL_STEPS:
            raise ValueError(f"rule {id}: step {step!r} is not one of {STEPS} or {ALL_STEPS} (all steps)")
        self.id = id
        self.spec = spec
        self.step: Step = (step[0], step[1])
        self.endpoints: frozenset[str] = frozenset(endpoints)
        self.direction = direction
        self.lossy = lossy
        self.order = spec_number(spec) if order is None else order
        self.doc = doc or ""
        self.module = ""
        self.facts: list[Fact] = []
        self.hooks: dict[str, list[Hook]] = {"request_up": [], "request_down": [],
                                             "response_down": [], "response_up": []}
        self.object_hooks: dict[tuple[str, Way], list[ObjectHook]] = {}
        #: declared object facts: (kind, path, action, way-agnostic) applied generically.
        self.object_facts: list[tuple[str, FieldFact]] = []
        self.examples: list[Example] = []

    # ---- declarations -------------------------------------------------------------------
    def request_field(self, path: str, action: FieldAction, to: str | None = None,
                      endpoints: Iterable[str] | None = None) -> FieldFact:
        """Declare: in request bodies of ``endpoints``, the value at ``path`` changes (up)."""
        fact = FieldFact(self.id, frozenset(endpoints or self.endpoints), "request", path, action, to)
        self.facts.append(fact)
        return fact

    def object_field(self, kind: str, path: str, action: FieldAction, to: str | None = None) -> FieldFact:
        """Declare: in ``kind`` objects of newer responses, the value at ``path`` changes (down)."""
        if kind not in OBJECT_KINDS:
            raise ValueError(f"rule {self.id}: unknown object kind {kind!r}")
        fact = FieldFact(self.id, endpoints_returning(kind), "response", path, action, to)
        self.facts.append(fact)
        self.object_facts.append((kind, fact))
        return fact

    def response_read(self, kind: str, path: str, note: str) -> ResponseReadFact:
        """Declare for the codemod: code reading ``path`` of ``kind`` responses must be checked."""
        fact = ResponseReadFact(self.id, endpoints_returning(kind), path, note)
        self.facts.append(fact)
        return fact

    def patch_op(self, property: str, action: Literal["value_to_id", "set_to_clear_and_add"],
                 endpoints: Iterable[str] | None = None) -> PatchOpFact:
        fact = PatchOpFact(self.id, frozenset(endpoints or self.endpoints), property, action)
        self.facts.append(fact)
        return fact

    def route(self, **kwargs: Any) -> RouteFact:
        fact = RouteFact(rule=self.id, **kwargs)
        self.facts.append(fact)
        return fact

    def media_type(self, media_type: str, from_versions: tuple[str, ...]) -> MediaTypeFact:
        fact = MediaTypeFact(self.id, media_type, from_versions)
        self.facts.append(fact)
        return fact

    def webhook(self, part: WebhookPart, events: Iterable[str] = ()) -> WebhookFact:
        """Declare: this rule owns ``part`` of webhook delivery translation (R30, R50–R52)."""
        fact = WebhookFact(self.id, part, tuple(events))
        self.facts.append(fact)
        return fact

    def add_fact(self, fact: Fact) -> Fact:
        self.facts.append(fact)
        return fact

    # ---- hooks ----------------------------------------------------------------------------
    def _hook(self, name: str) -> Callable[[Hook], Hook]:
        def register(fn: Hook) -> Hook:
            self.hooks[name].append(fn)
            return fn

        return register

    @property
    def request_up(self) -> Callable[[Hook], Hook]:
        return self._hook("request_up")

    def accept_up(self, fn: Hook) -> Hook:
        """A request_up hook that reads and writes only ``ctx.headers["accept"]`` (R04): the engine
        folds such hooks into one phase cached per Accept value."""
        fn.accept_only = True  # type: ignore[attr-defined]  # a marker the engine reads
        self.hooks["request_up"].append(fn)
        return fn

    @property
    def request_down(self) -> Callable[[Hook], Hook]:
        return self._hook("request_down")

    @property
    def response_down(self) -> Callable[[Hook], Hook]:
        return self._hook("response_down")

    @property
    def response_up(self) -> Callable[[Hook], Hook]:
        return self._hook("response_up")

    def object_down(self, kind: str) -> Callable[[ObjectHook], ObjectHook]:
        return self._object_hook(kind, "down")

    def object_up(self, kind: str) -> Callable[[ObjectHook], ObjectHook]:
        return self._object_hook(kind, "up")

    def _object_hook(self, kind: str, way: Way) -> Callable[[ObjectHook], ObjectHook]:
        if kind not in OBJECT_KINDS:
            raise ValueError(f"rule {self.id}: unknown object kind {kind!r}")

        def register(fn: ObjectHook) -> ObjectHook:
            self.object_hooks.setdefault((kind, way), []).append(fn)
            return fn

        return register

    # ---- examples -------------------------------------------------------------------------
    def example(self, kind: str, before: Any, after: Any = None, **kwargs: Any) -> Example:
        ex = Example(kind=kind, before=before, after=after, **kwargs)
        self.examples.append(ex)
        return ex

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.id

    def __repr__(self) -> str:
        return f"Rule({self.id!r}, spec={self.spec!r}, step={self.step!r})"


def step_rank(step: Step) -> int:
    return -1 if step == ALL_STEPS else STEPS.index(step)


def step_label(step: Step) -> str:
    return "all" if step == ALL_STEPS else f"{step[0]}→{step[1]}"
