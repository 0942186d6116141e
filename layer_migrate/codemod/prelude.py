"""Small module-level helpers the codemod writes into a file when an inline expression cannot
keep the 1.x behaviour for every input.

Why generated functions instead of longer inline expressions: a value built elsewhere (a
parameter, another method's dict) has no shape the codemod can see, so the conversion must decide
at run time — a string must not be iterated character by character, an id already in identity
form must not be prefixed twice (R11/R12), a v1 sender may carry ``user_id`` *or* ``name``. Each
helper is a few lines of plain Python with no dependency on this toolkit, named ``_layer_*`` so a
second run recognises (and never rewrites) them; only the helpers a file uses are written.

Behaviour for unusual input, by design (README "codemod"): ``_layer_identity_ids`` passes a string
(or any non-iterable) through unchanged, so the server rejects it exactly as 1.x did; the read
helpers (``_layer_user_ids``, ``_layer_v1_sender``, ``_layer_v1_recipient_status``) return 1.x
shapes unchanged, so they are safe on either version's answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import libcst as cst

from ..identity import IDENTITY_PREFIX
from .codegen import constant
from .identity_expr import JS_SAFE

PREFIX = "_layer_"

#: helper → helpers (and constants) it calls
_DEPS: dict[str, tuple[str, ...]] = {
    "_layer_identity_id": (),
    "_layer_identity_ids": ("_layer_identity_id",),
    "_layer_user_id": (),
    "_layer_user_ids": ("_layer_user_id",),
    "_layer_v1_recipient_status": ("_layer_user_id",),
    "_layer_v1_sender": ("_layer_user_id", "_LAYER_BOT_NAMES"),
    "_layer_sender_id": ("_layer_identity_id", "_LAYER_BOT_IDS"),
    "_layer_notification_recipients": ("_layer_identity_id",),
    "_LAYER_BOT_IDS": (),
    "_LAYER_BOT_NAMES": (),
}

#: written in this order (a constant before the functions that read it)
_ORDER = ("_LAYER_BOT_IDS", "_LAYER_BOT_NAMES", "_layer_identity_id", "_layer_identity_ids",
          "_layer_user_id", "_layer_user_ids", "_layer_v1_recipient_status", "_layer_v1_sender",
          "_layer_sender_id", "_layer_notification_recipients")

_TEMPLATES: dict[str, str] = {
    "_layer_identity_id": '''
def _layer_identity_id(user_id):
    """R11 (layer-migrate): identity id of a user id (kept if it is one)."""
    if user_id.startswith(@PREFIX@):
        return user_id
    return @PREFIX@ + @QUOTE@(user_id, safe=@SAFE@)
''',
    "_layer_identity_ids": '''
def _layer_identity_ids(user_ids):
    """R11 (layer-migrate): user ids as identity ids. A string is passed
    on unchanged (never split into characters): rejected as in 1.x."""
    if isinstance(user_ids, str) or not hasattr(user_ids, @ITER@):
        return user_ids
    return [_layer_identity_id(u) for u in user_ids]
''',
    "_layer_user_id": '''
def _layer_user_id(identity):
    """R12 (layer-migrate): user id of a BasicIdentity or identity id."""
    if isinstance(identity, dict) and @ID@ in identity:
        return identity.get(@USER_ID@)
    if hasattr(identity, @STARTSWITH@) and \\
            identity.startswith(@PREFIX@):
        return @UNQUOTE@(identity[@PREFIX_LEN@:])
    return identity
''',
    "_layer_user_ids": '''
def _layer_user_ids(identities):
    """R15/R36 (layer-migrate): participants or recipients as 1.x user ids."""
    if identities is None or isinstance(identities, str):
        return identities
    return [_layer_user_id(i) for i in identities]
''',
    "_layer_v1_recipient_status": '''
def _layer_v1_recipient_status(status):
    """R25 (layer-migrate): recipient_status keyed by user id, as in 1.x."""
    if not isinstance(status, dict):
        return status
    return {_layer_user_id(k): v for k, v in status.items()}
''',
    "_layer_v1_sender": '''
def _layer_v1_sender(sender):
    """R24 (layer-migrate): a BasicIdentity sender as 1.x {user_id, name}."""
    if not isinstance(sender, dict):
        return sender
    if @ID@ not in sender and @DISPLAY_NAME@ not in sender:
        return sender
    user_id = sender.get(@USER_ID@) if sender.get(@ID@) else None
    if user_id is None or user_id in _LAYER_BOT_NAMES:
        name = _LAYER_BOT_NAMES.get(user_id) or sender.get(@DISPLAY_NAME@)
        return {@USER_ID@: None, @NAME@: name}
    return {@USER_ID@: user_id, @NAME@: None}
''',
    "_layer_sender_id": '''
def _layer_sender_id(sender):
    """R21/R22 (layer-migrate): sender_id for a 1.x {user_id} or {name}."""
    if sender.get(@USER_ID@):
        return _layer_identity_id(sender[@USER_ID@])
    if sender.get(@NAME@) not in _LAYER_BOT_IDS:
        raise ValueError(@NO_BOT@ % sender.get(@NAME@))
    return _layer_identity_id(_LAYER_BOT_IDS[sender[@NAME@]])
''',
    "_layer_notification_recipients": '''
def _layer_notification_recipients(overrides):
    """R26 (layer-migrate): 1.x per-recipient overrides ({user_id: {...}} or
    [{user_id: ..., ...}]) as [{recipient: identity id, ...}]."""
    if isinstance(overrides, dict):
        overrides = [dict(o, user_id=u) for u, o in overrides.items()]
    out = []
    for o in overrides or ():
        o = dict(o)
        if @USER_ID@ in o:
            o[@RECIPIENT@] = _layer_identity_id(o.pop(@USER_ID@))
        out.append(o)
    return out
''',
}


def _literal(value: str, quote: str) -> str:
    if quote in value:
        quote = '"' if quote == "'" else "'"
    return f"{quote}{value}{quote}"


@dataclass
class Prelude:
    """The helpers one file needs; :meth:`statements` renders them."""

    quote: str = '"'  # the file's string quote style
    quote_func: str = "quote"  # or "urllib.parse.quote" when the name is taken
    bots: dict[str, str] = field(default_factory=dict)
    needed: set[str] = field(default_factory=set)

    def use(self, name: str) -> cst.Name:
        """Mark helper ``name`` (and what it calls) as needed; returns its name node."""
        stack = [name]
        while stack:
            n = stack.pop()
            if n not in self.needed:
                self.needed.add(n)
                stack.extend(_DEPS[n])
        return cst.Name(name)

    def call(self, name: str, arg: cst.BaseExpression) -> cst.Call:
        return cst.Call(func=self.use(name), args=[cst.Arg(arg)])

    def imports(self) -> list[tuple[str, str | None]]:
        """``(module, name)`` pairs the helpers need (``name`` None: ``import module``)."""
        out: list[tuple[str, str | None]] = []
        dotted = self.quote_func != "quote"
        if "_layer_identity_id" in self.needed:
            out.append(("urllib.parse", None) if dotted else ("urllib.parse", "quote"))
        if "_layer_user_id" in self.needed:
            out.append(("urllib.parse", None) if dotted else ("urllib.parse", "unquote"))
        return out

    def statements(self, present: set[str], newline: str = "\n") -> list[cst.BaseStatement]:
        """The needed helpers not already ``present`` in the module, in dependency order."""
        q = self.quote
        subst = {
            "@PREFIX@": _literal(IDENTITY_PREFIX, q), "@PREFIX_LEN@": str(len(IDENTITY_PREFIX)),
            "@SAFE@": _literal(JS_SAFE, q), "@QUOTE@": self.quote_func,
            "@UNQUOTE@": "urllib.parse.unquote" if self.quote_func != "quote" else "unquote",
            "@ITER@": _literal("__iter__", q), "@STARTSWITH@": _literal("startswith", q),
            "@ID@": _literal("id", q), "@USER_ID@": _literal("user_id", q), "@NAME@": _literal("name", q),
            "@DISPLAY_NAME@": _literal("display_name", q), "@RECIPIENT@": _literal("recipient", q),
            "@NO_BOT@": _literal("no bot user id for sender %r", q),
        }
        out: list[cst.BaseStatement] = []
        for name in _ORDER:
            if name not in self.needed or name in present:
                continue
            if name in ("_LAYER_BOT_IDS", "_LAYER_BOT_NAMES"):
                pairs = sorted(self.bots.items()) if name == "_LAYER_BOT_IDS" else sorted(
                    (uid, n) for n, uid in self.bots.items())
                text = _dict_source(name, pairs, q)
            else:
                text = _TEMPLATES[name]
                for k, v in subst.items():
                    text = text.replace(k, v)
            out += _parsed(text, newline)
        return out


@lru_cache(maxsize=256)
def _parsed(text: str, newline: str) -> tuple[cst.BaseStatement, ...]:
    """One helper's statements, parsed once per process for each text (quote style, bot map) and
    newline: a libcst parse per helper and file was a tenth of the codemod's time on Layer files.
    Sharing the nodes between files is safe — libcst nodes are immutable."""
    # parsed with the file's newline: multi-line docstrings keep its line endings
    module = cst.parse_module(text.lstrip("\n").replace("\n", newline))
    out: list[cst.BaseStatement] = []
    for i, stmt in enumerate(module.body):
        if i == 0:  # two blank lines before each top-level definition (PEP 8)
            blank = 2 if isinstance(stmt, cst.FunctionDef) else 1
            stmt = stmt.with_changes(leading_lines=[cst.EmptyLine()] * blank)
        constant(stmt)
        out.append(stmt)
    return tuple(out)


def _dict_source(name: str, pairs: list[tuple[str, str]], q: str) -> str:
    comment = ("# bot display name → bot user id (layer-migrate --bot-map; R22/R35)" if name == "_LAYER_BOT_IDS"
               else "# bot user id → v1 sender name (layer-migrate --bot-map; R24)")
    if not pairs:
        return f"{comment}\n{name} = {{}}\n"
    body = "".join(f"    {_literal(k, q)}: {_literal(v, q)},\n" for k, v in pairs)
    return f"{comment}\n{name} = {{\n{body}}}\n"


def helper_names(stmt: cst.CSTNode) -> set[str]:
    """The ``_layer_*`` / ``_LAYER_*`` names one top-level statement defines (what an earlier
    run wrote: present helpers are not written again, nor rewritten)."""
    out: set[str] = set()
    if isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith(PREFIX):
        out.add(stmt.name.value)
    elif isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    if isinstance(t.target, cst.Name) and t.target.value.startswith("_LAYER_"):
                        out.add(t.target.value)
    return out


def is_helper_call(node: cst.CSTNode) -> bool:
    """``_layer_*(...)``: output of an earlier run, never rewritten again."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value.startswith(PREFIX)
