"""The rule model every module in ``rules/`` instantiates, and the rulebook loader.

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
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import LayerError, invalid_property, invalid_request
from .facts import (
    Fact,
    FieldAction,
    FieldFact,
    MediaTypeFact,
    PatchOpFact,
    ResponseReadFact,
    RouteFact,
)
from .versions import STEPS

Way = Literal["up", "down"]
Step = tuple[str, str]

#: The step of rules that concern every version step ("all steps" in spec §14): they run once per
#: translation, first when going up and last when going down.
ALL_STEPS: Step = ("1.0", "3.0")

#: API object kinds the object hooks and payload translation know (spec §3–§12).
OBJECT_KINDS: tuple[str, ...] = (
    "message", "conversation", "announcement", "identity", "block", "user", "webhook",
)

#: Where each object kind appears in response bodies: endpoint → (kind, locator). Locators:
#: ``""`` the body is the object, ``"[]"`` a list of them, ``"identity"`` the key of that name.
OBJECT_LOCATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "conversations.create": (("conversation", ""),),
    "conversations.get": (("conversation", ""),),
    "user.conversations.list": (("conversation", "[]"),),
    "user.conversations.get": (("conversation", ""),),
    "messages.send": (("message", ""),),
    "messages.list": (("message", "[]"),),
    "messages.get": (("message", ""),),
    "user.messages.list": (("message", "[]"),),
    "user.messages.get": (("message", ""),),
    "announcements.send": (("announcement", ""),),
    "blocks.list": (("block", "[]"),),
    "identity.get": (("identity", ""),),
    "users.get": (("user", ""),),
    "webhooks.create": (("webhook", ""),),
    "webhooks.list": (("webhook", "[]"),),
    "webhooks.get": (("webhook", ""),),
    "webhooks.activate": (("webhook", ""),),
    "webhooks.deactivate": (("webhook", ""),),
}


#: Endpoints whose bodies are Layer-Patch (R05/R06; POST + override resolves to these).
PATCH_ENDPOINTS: frozenset[str] = frozenset(
    ("conversations.patch", "users.patch", "identity.patch", "app.patch"))


def endpoints_returning(kind: str) -> frozenset[str]:
    """Endpoint names whose response bodies carry ``kind`` objects (for declared facts)."""
    return frozenset(e for e, locs in OBJECT_LOCATIONS.items() if any(k == kind for k, _ in locs))


class Context:
    """Mutable state of one translation, handed to every hook.

    Hooks read ``source``/``target``/``options``/``endpoint``/``params`` and edit
    ``method``/``path``/``headers``/``body``/``status``. ``perspective`` is ``"user"`` for the
    user-perspective endpoints (R29 keeps ``received_at``/``is_unread`` there), else ``"system"``;
    ``in_last_message`` is True while a conversation's ``last_message`` is translated (R18/R29);
    ``webhook`` is True inside webhook deliveries (R24: single-key sender, R51). ``step`` is set
    only while Accept-only hooks (:meth:`Rule.accept_up`, MediaTypeFacts) run. ``engine`` lets a
    hook translate an embedded object (``ctx.engine.run_object(kind, obj, ctx)``, R09/R18).
    """

    __slots__ = (
        "source", "target", "options", "endpoint", "params", "method", "path", "headers", "body",
        "status", "request", "applied", "lossy", "prerequisites", "perspective",
        "in_last_message", "webhook", "step", "engine",
    )

    def __init__(self, source: str, target: str, options: Any, endpoint: str | None = None,
                 params: dict[str, str] | None = None, engine: Any = None, method: str = "GET",
                 path: str = "/", headers: dict[str, str] | None = None, body: Any = None,
                 status: int = 200, request: Any = None) -> None:
        self.source = source
        self.target = target
        self.options = options
        self.endpoint = endpoint
        self.params = params if params is not None else {}
        self.method = method
        self.path = path
        self.headers = headers if headers is not None else {}
        self.body = body
        self.status = status
        self.request = request
        self.applied: list[str] = []
        self.lossy: list[str] = []
        self.prerequisites: list[Any] = []
        self.perspective = "user" if endpoint is not None and endpoint[:5] == "user." else "system"
        self.in_last_message = False
        self.webhook = False
        self.step: Step = ALL_STEPS
        self.engine = engine

    def note_lossy(self, rule_id: str, message: str) -> None:
        entry = f"{rule_id}: {message}"
        if entry not in self.lossy:
            self.lossy.append(entry)

    def require(self, prerequisite: Any) -> None:
        if all(p.key != prerequisite.key for p in self.prerequisites):
            self.prerequisites.append(prerequisite)


Hook = Callable[[Context], bool | None]
ObjectHook = Callable[[Any, Context], Any]


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
        fn.accept_only = True  # type: ignore[attr-defined]
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


# ---- helpers shared by rule modules ---------------------------------------------------------
def check_sender(ctx: Context, allow_user_id: bool = True) -> bool:
    """Validate and normalise a v1 ``sender`` (R23 for messages, R35 for announcements).

    Raises the v1 errors (when ``options.emulate_v1_errors``); drops explicit null keys so the
    declared move facts see exactly one of ``user_id``/``name``.
    """
    body = ctx.body
    if not isinstance(body, dict):
        if ctx.options.emulate_v1_errors:
            raise invalid_request("The request body must be a JSON object", data={"property": "body"})
        return False
    sender = body.get("sender")
    if sender is None:
        if "sender_id" in body:  # already in the newer shape (half-migrated client)
            return False
        if ctx.options.emulate_v1_errors:
            raise LayerError("missing_property", "Object is missing required member 'sender'",
                             data={"property": "sender"})
        return False
    if not isinstance(sender, dict):
        raise invalid_property("sender", "Property 'sender' must be an object with 'user_id' or 'name'")
    uid, name = sender.get("user_id"), sender.get("name")
    if ctx.options.emulate_v1_errors:
        if uid is not None and name is not None:
            raise invalid_property("sender", "Only one of 'sender.name' and 'sender.user_id' may be given")
        if uid is None and name is None:
            raise LayerError("missing_property", "Object is missing required member 'sender.user_id' or 'sender.name'",
                             data={"property": "sender"})
        if uid is not None and not allow_user_id:
            raise invalid_property("sender.user_id", "Announcements are sent with 'sender.name'; 'sender.user_id' is not allowed")
    if (uid is None) != ("user_id" not in sender) or (name is None) != ("name" not in sender):
        ctx.body = {**body, "sender": {k: v for k, v in sender.items() if v is not None}}
        return True
    return False



# ---- loading ------------------------------------------------------------------------------
def builtin_rules_dir() -> Path:
    """``rules/`` next to the package in a checkout, else ``layer_migrate/rules`` (wheel)."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "rules"
    if (checkout / "__init__.py").is_file():
        return checkout
    return here / "rules"


class RulebookError(ValueError):
    """A rule file that cannot be loaded (message: ``file:line: reason``)."""


def _load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RulebookError(f"{path}:1: cannot load rule module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user rule folder may hold anything: report it on one line
        sys.modules.pop(name, None)
        tb = exc.__traceback__
        line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
        line = line or 1
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                line = tb.tb_lineno
            tb = tb.tb_next
        msg = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise RulebookError(f"{path}:{line}: {type(exc).__name__}: {msg}") from None
    return module


def load_rules_from(directory: str | Path, prefix: str = "layer_migrate_user_rules") -> list[Rule]:
    """Every ``rule`` (or ``rules`` list) defined by ``*.py`` files under ``directory``.

    Files are loaded by path (not by import name) so user folders need no package structure;
    files starting with ``_`` are skipped.
    """
    root = Path(directory)
    if not root.is_dir():
        raise RulebookError(f"{root}:1: rules directory does not exist")
    found: list[Rule] = []
    for path in sorted(root.rglob("*.py")):
        if path.name.startswith("_"):
            continue
        rel = path.relative_to(root).with_suffix("")
        name = f"{prefix}.{'.'.join(rel.parts)}"
        module = _load_module(path, name)
        candidates = list(getattr(module, "rules", []) or [])
        if getattr(module, "rule", None) is not None:
            candidates.insert(0, module.rule)
        for r in candidates:
            if not isinstance(r, Rule):
                raise RulebookError(f"{path}:1: 'rule' is not a layer_migrate.rulebook.Rule")
            r.module = str(path)
            if not r.doc:
                r.doc = (module.__doc__ or "").strip()
            found.append(r)
    return found


_BUILTIN: list[Rule] | None = None


def load_rulebook(extra_dirs: Iterable[str | Path] = ()) -> list[Rule]:
    """The built-in rules plus those in ``extra_dirs``, ordered by step then spec order.

    Rule ids must be unique; a user rule with a built-in id is an error (not a silent override).
    """
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = load_rules_from(builtin_rules_dir(), prefix="layer_migrate._builtin_rules")
    rules = list(_BUILTIN)
    for i, d in enumerate(extra_dirs):
        rules.extend(load_rules_from(d, prefix=f"layer_migrate_user_rules{i}"))
    seen: dict[str, Rule] = {}
    for r in rules:
        if r.id in seen:
            raise RulebookError(f"{r.module}:1: duplicate rule id {r.id!r} (also in {seen[r.id].module})")
        seen[r.id] = r
    rules.sort(key=lambda r: (step_rank(r.step), r.order, r.id))
    return rules


# ---- documentation (``layer-migrate rules``, docs/rules.md) ------------------------------------
#: Catalogue rules with no module, and why (also listed in ``rules/README.md``).
NOT_APPLICABLE: dict[str, str] = {
    "R46": "v2.following — the Following API (2.0) has no v1 counterpart: a v1 client never calls it, "
           "so there is nothing to translate (spec §3.5, §14.7).",
}


def _json(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= 96:
        return text
    return json.dumps(value, ensure_ascii=False, indent=2)


def _example_lines(rule: Rule, ex: Example) -> list[str]:
    lines: list[str] = []
    src = ex.source or ("1.1" if ex.kind == "request" else rule.step[1] if rule.step != ALL_STEPS else "3.0")
    dst = ex.target or (rule.step[1] if ex.kind == "request" else "1.1")
    if ex.kind == "sign":
        lines.append(f"HMAC-SHA1 of `{ex.before['raw']}` with secret `{ex.before['secret']}` → `{ex.after}`")
        return lines
    if ex.kind == "delivery":
        head = f"Webhook delivery `{ex.before['type']}` ({src} → {dst}):"
    elif ex.kind == "request":
        head = f"Request `{ex.method or ''} {ex.path or ex.endpoint}` ({src} → {dst})"
        if ex.after_method or ex.after_path:
            head += f" becomes `{ex.after_method or ex.method} {ex.after_path or ex.path}`"
        head += ":"
    elif ex.kind == "response":
        head = f"Response of `{ex.method or ''} {ex.path or ex.endpoint}` ({src} → {dst})"
        if ex.status is not None:
            head += f", status {ex.status}" + (f" → {ex.after_status}" if ex.after_status not in (None, ex.status) else "")
        head += ":"
    else:
        head = f"`{ex.kind}` payload ({src} → {dst}):"
    if ex.options:
        head += " with options `" + ", ".join(f"{k}={v!r}" for k, v in ex.options.items()) + "`"
    lines.append(head)
    if ex.headers:
        lines.append(f"headers `{_json(ex.headers)}`" + (f" → `{_json(ex.after_headers)}`" if ex.after_headers else ""))
    elif ex.after_headers:
        lines.append(f"headers → `{_json(ex.after_headers)}`")
    if ex.kind == "delivery":
        before, after = ex.before["body"], ex.after
    else:
        before, after = ex.before, ex.after
    if before is not None:
        lines += ["", "```json", _json(before), "```"]
    if ex.error:
        lines.append(f"→ refused with Layer error `{ex.error}`.")
    elif ex.kind == "delivery":
        lines += ["→ 1.0 events:", "", "```json", _json(after), "```"] if after else ["→ no event (dropped)."]
    elif after is not None:
        lines += ["→", "", "```json", _json(after), "```"]
    elif before is not None:
        lines.append("→ no body.")
    if ex.note:
        lines.append(f"*{ex.note}*")
    return lines


def render_markdown(rules: list[Rule]) -> str:
    """The migration guide: every rule by catalogue number, with its examples."""
    out = ["# Layer Platform API 1.x → 2.0/3.0: migration guide", "",
           "Generated by `layer-migrate rules --markdown` from the rule modules in `rules/` "
           "(spec §14, R01–R54). Each example below is run by the test suite.", "",
           "Steps: `1.0→1.1`, `1.1→2.0`, `2.0→3.0`, or `all` (every step). A translation from 1.1 to 3.0 "
           "applies the rules of both later steps; responses are translated back in reverse order.", "",
           "| spec | rule | step | direction | summary |", "|---|---|---|---|---|"]
    ordered = sorted(rules, key=lambda r: (spec_number(r.spec), r.id))
    for r in ordered:
        out.append(f"| {r.spec} | [`{r.id}`](#{_anchor(r)}) | {step_label(r.step)} | {r.direction} | "
                   f"{r.summary.split(' — ', 1)[-1].replace('|', '/')} |")
    for spec, why in NOT_APPLICABLE.items():
        out.append(f"| {spec} | n/a | – | – | {why.split(' — ')[0]} (no v1 counterpart) |")
    out.append("")
    for r in ordered:
        out += [f"## {r.spec}: {r.id}", ""]
        out += [line.rstrip() for line in r.doc.strip().splitlines()]
        out.append("")
        eps = ", ".join(f"`{e}`" for e in sorted(r.endpoints)) if r.endpoints else "webhook deliveries / objects"
        out.append(f"- step: {step_label(r.step)}; direction: {r.direction}; endpoints: {eps}")
        if r.lossy:
            out.append(f"- lossy: {r.lossy}")
        if r.facts:
            out.append("- declared facts: " + "; ".join(_fact_text(f) for f in r.facts))
        out.append("")
        for i, ex in enumerate(r.examples, 1):
            out.append(f"**Example {i}.** " + "\n".join(_example_lines(r, ex)))
            out.append("")
    out += ["## Not applicable", ""]
    for spec, why in NOT_APPLICABLE.items():
        out.append(f"- **{spec}** {why}")
    out.append("")
    return "\n".join(out)


def _anchor(r: Rule) -> str:
    import re

    return re.sub(r"[^a-z0-9 _-]", "", f"{r.spec}: {r.id}".lower()).replace(" ", "-")


def _fact_text(f: Any) -> str:
    kind = type(f).__name__
    if isinstance(f, FieldFact):
        move = f" → `{f.to}`" if f.to else ""
        return f"{kind} `{f.path}`{move} ({f.action}, {f.direction})"
    if isinstance(f, PatchOpFact):
        return f"{kind} `{f.property}` ({f.action})"
    if isinstance(f, RouteFact):
        return f"{kind} `{f.from_endpoint}` → `{f.to_method} {f.to_endpoint}`"
    if isinstance(f, MediaTypeFact):
        return f"{kind} `{f.media_type}` from {', '.join(f.from_versions)}"
    if isinstance(f, ResponseReadFact):
        return f"{kind} `{f.path}` ({f.note})"
    return kind


def render_table(rules: list[Rule]) -> str:
    lines = [f"{'spec':<8}{'id':<36}{'step':<10}{'direction':<10}summary"]
    for r in sorted(rules, key=lambda r: (spec_number(r.spec), r.id)):
        lines.append(f"{r.spec:<8}{r.id:<36}{step_label(r.step):<10}{r.direction:<10}{r.summary}")
    for spec, why in NOT_APPLICABLE.items():
        lines.append(f"{spec:<8}{'(n/a)':<36}{'-':<10}{'-':<10}{why}")
    return "\n".join(lines) + "\n"


def render_json(rules: list[Rule]) -> list[dict[str, Any]]:
    from dataclasses import asdict

    out = []
    for r in sorted(rules, key=lambda r: (spec_number(r.spec), r.id)):
        out.append({"id": r.id, "spec": r.spec, "step": step_label(r.step), "endpoints": sorted(r.endpoints),
                    "direction": r.direction, "doc": r.doc, "lossy": r.lossy, "module": r.module,
                    "facts": [{"type": type(f).__name__, **{k: sorted(v) if isinstance(v, frozenset) else v
                                                           for k, v in asdict(f).items()}} for f in r.facts],
                    "examples": [{k: v for k, v in asdict(e).items() if v not in (None, {}, "")}
                                 for e in r.examples]})
    return out
