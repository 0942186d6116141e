"""The engine's options: every INFERRED choice of the spec, made explicit and validated.

Kept apart from the engine because everything that configures a translation (the CLI, the proxy,
the rule examples, the prerequisites that build their own requests) needs ``Options`` without
needing the compiled rulebook: importing this module loads no rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from typing import Any, Literal

from .identity import BotDirectory

__all__ = ["DATED_BEHAVIOURS", "DatedBehaviour", "Options", "dated_defaults"]


@dataclass(frozen=True)
class DatedBehaviour:
    """One dated change of the change log inside a version that an engine option models.

    Before ``changed`` the service behaved as ``option = before``; from ``changed`` on, as
    ``option = not before`` (the latest behaviour, the default when no date is given).
    """

    changed: date
    option: str
    before: bool
    #: the change-log line, in a few words (README's table shows it)
    behaviour: str
    spec: str


#: The dated behaviours an :class:`Options` date decides (change log of the 1.x service; the
#: proxy's and the emulator's ``--as-of`` use the same dates). README's table is checked against it.
DATED_BEHAVIOURS: tuple[DatedBehaviour, ...] = (
    DatedBehaviour(date(2015, 9, 16), "distinct_303", True,
                   "an existing distinct conversation is answered 200 (was 303 See Other)", "R19"),
    DatedBehaviour(date(2016, 6, 21), "drop_nulls", True,
                   "response objects carry explicit nulls (null attributes were absent)", "R08"),
    DatedBehaviour(date(2016, 6, 21), "autocreate_users", True,
                   "an unknown user in /users/:uid/… is a 404 (was created on the fly)", "R10"),
)


def dated_defaults(as_of: date | None) -> dict[str, bool]:
    """The option values the service's behaviour on ``as_of`` implies (None: the latest)."""
    return {d.option: (d.before if as_of is not None and as_of < d.changed else not d.before)
            for d in DATED_BEHAVIOURS}


@dataclass
class Options:
    """Every INFERRED choice of the spec, explicit (defaults in brackets).

    * ``bots`` — bot display name ⇄ bot user id (R22/R35/R24) [deterministic ``bot-<slug>``].
    * ``drop_nulls`` — R08: drop null-valued keys from v1 responses, as pre-June-2016 servers did
      [False: explicit nulls, as the 1.x server after 2016-06-21].
    * ``identity_type_field`` — R22/R44: how a bot identity's type is written when provisioning:
      ``"identity_type"`` (lower-case, 3.0 docs and real 2.0 servers, spec §3.3 advice),
      ``"type"`` (2.0 draft docs, ``"Bot"``), ``"both"`` [``"identity_type"`` for every target].
    * ``identity_ids_in_requests`` — R14/R34/R37/R16: send identity ids [True]; False sends bare user
      ids, relying on the leniency third-party libraries observed (INFERRED, spec §3.1).
    * ``part_ids`` — R27: ``"index"`` rewrites 3.0 UUID part ids to ``…/parts/<i>``; ``"keep"``
      leaves them [``"index"``].
    * ``distinct_303`` — R19: answer an existing distinct conversation (200) as pre-Sep-2015
      ``303 See Other`` + ``Location`` [False].
    * ``strip_identity_fields`` — R43: remove ``id``/``user_id``/``url``/``type``/``identity_type``
      from identity reads for v1 clients [True].
    * ``rewrite_error_url`` — R09: point error ``url`` at the v1 docs [True].
    * ``provision_bot_as_participant`` — R22 risk: also return a prerequisite adding the bot to the
      conversation before it sends [False].
    * ``emulate_v1_errors`` — R23/R34/R35/R38: refuse v1-invalid bodies locally with the v1 error
      instead of forwarding them [True].
    * ``system_unread_fields`` — R29: system-perspective ``received_at``/``is_unread`` become
      ``"null"`` (as the 1.x system perspective) or are ``"strip"``-ped [``"null"``].
    * ``conversation_updated_default`` — R50: v1 event for a 3.0 ``Conversation.updated`` without a
      change list [``"conversation.updated.metadata"``].
    * ``webhook_single_key_sender`` — R24/§12.3: webhook 1.0 payloads carry only the non-null key of
      ``sender``/``actor`` [True].
    * ``webhook_events_in_config`` — R53: a v1 webhook registration's own event list rides along in
      ``config`` (key ``layer_migrate_v1``) so read-backs and deliveries restore it exactly [True].
    * ``autocreate_users`` — R10: a 404 on ``/users/:uid/…`` for a v1 client returns an
      ``EnsureIdentity`` prerequisite (create, then retry), as pre-June-2016 servers auto-created
      users [False].
    * ``as_of`` — a date (``date`` or ``"YYYY-MM-DD"``): the dated options (``distinct_303``,
      ``drop_nulls``, ``autocreate_users``; :data:`DATED_BEHAVIOURS`) that are not given
      explicitly follow the service's behaviour on that day [None: the latest behaviour].
      An explicit value always wins. :meth:`at` changes the date of existing options.
    """

    bots: BotDirectory = field(default_factory=BotDirectory)
    drop_nulls: bool = None  # type: ignore[assignment]  # None → from as_of (then a bool)
    identity_type_field: Literal["identity_type", "type", "both"] = "identity_type"
    identity_ids_in_requests: bool = True
    part_ids: Literal["index", "keep"] = "index"
    distinct_303: bool = None  # type: ignore[assignment]  # None → from as_of (then a bool)
    strip_identity_fields: bool = True
    rewrite_error_url: bool = True
    provision_bot_as_participant: bool = False
    emulate_v1_errors: bool = True
    system_unread_fields: Literal["null", "strip"] = "null"
    conversation_updated_default: str = "conversation.updated.metadata"
    webhook_single_key_sender: bool = True
    autocreate_users: bool = None  # type: ignore[assignment]  # None → from as_of (then a bool)
    webhook_events_in_config: bool = True
    as_of: date | None = None
    #: the dated options given explicitly (the rest follow ``as_of``)
    explicit: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.as_of, str):
            try:
                self.as_of = date.fromisoformat(self.as_of)
            except ValueError:
                raise ValueError(f"as_of must be a date YYYY-MM-DD, not {self.as_of!r}") from None
        if self.as_of is not None and not isinstance(self.as_of, date):
            raise ValueError(f"as_of must be a date YYYY-MM-DD, not {self.as_of!r}")
        implied = dated_defaults(self.as_of)
        explicit = set()
        for name, value in implied.items():
            given = getattr(self, name)
            if given is None:
                setattr(self, name, value)
            elif isinstance(given, bool):
                explicit.add(name)
            else:
                raise ValueError(f"{name} must be true or false, not {given!r}")
        self.explicit = frozenset(explicit)
        if self.identity_type_field not in ("identity_type", "type", "both"):
            raise ValueError("identity_type_field must be 'identity_type', 'type' or 'both'")
        if self.part_ids not in ("index", "keep"):
            raise ValueError("part_ids must be 'index' or 'keep'")
        if self.system_unread_fields not in ("null", "strip"):
            raise ValueError("system_unread_fields must be 'null' or 'strip'")

    def at(self, as_of: date | str | None) -> Options:
        """These options on another date: explicit dated options stay, the others follow it."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        for name in dated_defaults(None):
            if name not in self.explicit:
                given[name] = None
        given["as_of"] = as_of
        return replace(self, **given)

    def describe(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("bots", "explicit")}
        out["bots"] = dict(self.bots.mapping)
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out
