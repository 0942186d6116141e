"""Loading rules: the built-in ones by import (``pkgutil``), user folders by path; checked at load.

Built-in rules are modules of the package :mod:`layer_migrate.rules`, imported under their own
name (one module identity: ``import layer_migrate.rules.v2_0.sender_user_id`` and the loader see the
same object), found with :func:`pkgutil.walk_packages` as django-upgrade finds its fixers. A user
folder (``--rules DIR``) needs no package structure, so its files are loaded by path.

Every rule is checked when it is loaded, the way Cadwyn checks a ``VersionChange`` at class
creation: a misspelt endpoint or a request-only rule with response hooks is an error on load
(``file:line: reason``), not a rule that silently never runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from .. import routes
from ..facts import FieldFact, PatchOpFact, ResponseReadFact, RouteFact
from .rule import DIRECTIONS, Rule, step_rank

__all__ = ["RulebookError", "builtin_rules_dir", "check_rule", "load_builtin_rules",
           "load_rulebook", "load_rules_from"]

#: The package holding the built-in rules.
BUILTIN_PACKAGE = "layer_migrate.rules"


class RulebookError(ValueError):
    """A rule file that cannot be loaded (message: ``file:line: reason``)."""


def builtin_rules_dir() -> Path:
    """The folder of :mod:`layer_migrate.rules` (for tools that list the rule files)."""
    return Path(__file__).resolve().parent.parent / "rules"


def check_rule(rule: Rule) -> list[str]:
    """What is wrong with ``rule`` (empty when nothing): endpoint names that the route table does
    not know, a missing docstring, a ``direction`` its hooks contradict."""
    problems: list[str] = []
    known = routes.BY_NAME
    names: set[str] = set(rule.endpoints)
    for fact in rule.facts:
        if isinstance(fact, (FieldFact, PatchOpFact, ResponseReadFact)):
            names |= fact.endpoints
        elif isinstance(fact, RouteFact):
            names |= {fact.from_endpoint, fact.to_endpoint}
    unknown = sorted(n for n in names if n != "*" and n not in known)
    if unknown:
        problems.append(f"unknown endpoint name(s) {', '.join(unknown)} (see layer_migrate.routes)")
    if not rule.doc.strip():
        problems.append("no docstring: the module docstring is the rule's change-log line")
    if rule.direction not in DIRECTIONS:
        problems.append(f"direction {rule.direction!r} is not one of {', '.join(DIRECTIONS)}")
    has_request = bool(rule.hooks["request_up"] or rule.hooks["request_down"])
    has_response = bool(rule.hooks["response_down"] or rule.hooks["response_up"])
    if rule.direction == "request" and has_response:
        problems.append("direction 'request' but the rule registers response hooks")
    if rule.direction == "response" and has_request:
        problems.append("direction 'response' but the rule registers request hooks")
    if rule.direction == "webhook" and (has_request or has_response):
        problems.append("direction 'webhook' but the rule registers request/response hooks")
    return problems


def _adopt(module: ModuleType, where: str) -> list[Rule]:
    """The rules a module defines (``rule``, then a ``rules`` list), checked."""
    candidates = list(getattr(module, "rules", []) or [])
    if getattr(module, "rule", None) is not None:
        candidates.insert(0, module.rule)
    found: list[Rule] = []
    for r in candidates:
        if not isinstance(r, Rule):
            raise RulebookError(f"{where}:1: 'rule' is not a layer_migrate.rulebook.Rule")
        r.module = where
        if not r.doc:
            r.doc = (module.__doc__ or "").strip()
        problems = check_rule(r)
        if problems:
            raise RulebookError(f"{where}:1: rule {r.id}: {'; '.join(problems)}")
        found.append(r)
    return found


def _load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RulebookError(f"{path}:1: cannot load rule module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user rule folder may hold anything: report it on one line
        sys.modules.pop(name, None)
        raise RulebookError(_one_line(exc, str(path))) from None
    return module


def _one_line(exc: BaseException, filename: str) -> str:
    """``file:line: Type: message`` for an exception raised while executing ``filename``."""
    tb = exc.__traceback__
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    line = line or 1
    where = getattr(exc, "filename", None) if isinstance(exc, SyntaxError) else None
    filename = where or filename
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    msg = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{filename}:{line}: {type(exc).__name__}: {msg}"


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
        module = _load_module(path, f"{prefix}.{'.'.join(rel.parts)}")
        found.extend(_adopt(module, str(path)))
    return found


def load_builtin_rules() -> list[Rule]:
    """The rules of :mod:`layer_migrate.rules`, imported by name (sorted by module name)."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    found: list[Rule] = []
    infos = pkgutil.walk_packages(package.__path__, prefix=BUILTIN_PACKAGE + ".")
    for info in sorted(infos, key=lambda i: i.name):
        if info.ispkg or info.name.rsplit(".", 1)[1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        found.extend(_adopt(module, module.__file__ or info.name))
    return found


_BUILTIN: list[Rule] | None = None


def load_rulebook(extra_dirs: Iterable[str | Path] = ()) -> list[Rule]:
    """The built-in rules plus those in ``extra_dirs``, ordered by step then spec order.

    Rule ids must be unique; a user rule with a built-in id is an error (not a silent override).
    """
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = load_builtin_rules()
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
