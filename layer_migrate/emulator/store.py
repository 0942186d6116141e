"""SQLite storage for the emulator: one version-neutral model that every version renders from.

Why version-neutral: the emulator is the oracle the translator is tested against, so it must
not store "a 1.0 message" or "a 3.0 message" — it stores *the* message (sender as a user id or a
v1 name, recipients as user ids, parts with a stable UUID and their position) and renders each
version from that (``render.py``).

Concurrency: the ASGI app runs handlers synchronously on one event loop, each inside
:meth:`Store.tx` (a lock + one SQLite transaction), so requests never interleave their writes
and a failing request leaves nothing half-written. The lock also makes the read-only inspection
methods safe to call from a test thread. File databases use WAL so a restart with ``--db FILE``
keeps everything that was answered.

Documents are orjson blobs in small tables keyed by the columns the handlers query on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (uuid TEXT PRIMARY KEY, seq INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, distinct_key TEXT, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_distinct ON conversations(distinct_key);
CREATE TABLE IF NOT EXISTS members (user_id TEXT NOT NULL, conversation TEXT NOT NULL,
    PRIMARY KEY (user_id, conversation));
CREATE TABLE IF NOT EXISTS messages (uuid TEXT PRIMARY KEY, seq INTEGER NOT NULL,
    conversation TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS messages_live ON messages(conversation, deleted, seq);
CREATE TABLE IF NOT EXISTS unread (user_id TEXT NOT NULL, conversation TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (message, user_id));
CREATE INDEX IF NOT EXISTS unread_conv ON unread(user_id, conversation);
CREATE TABLE IF NOT EXISTS announcements (uuid TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (owner TEXT NOT NULL, blocked TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (owner, blocked));
CREATE TABLE IF NOT EXISTS following (follower TEXT NOT NULL, followed TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (follower, followed));
CREATE TABLE IF NOT EXISTS webhooks (uuid TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dedupe (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS exports (uuid TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS content (uuid TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL,
    bytes BLOB);
CREATE TABLE IF NOT EXISTS sessions (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""

_SEQ_TABLES = ("users", "conversations", "messages", "announcements", "notifications", "blocks",
               "following", "webhooks", "deliveries", "exports", "content", "sessions")


def _dump(obj: Any) -> bytes:
    return orjson.dumps(obj)


def _load(blob: bytes | str) -> Any:
    return orjson.loads(blob)


class Store:
    """The emulator's state. Handlers use the ``*_`` write helpers inside :meth:`tx`;
    tests use the plain-named read methods (``messages()``, ``notifications()``, ...)."""

    def __init__(self, db: str | None = None) -> None:
        self.path = db or ":memory:"
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if db:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._seq = max(
            (self.conn.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {t}").fetchone()[0] for t in _SEQ_TABLES),
            default=0,
        )
        self._in_tx = 0

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def tx(self) -> Iterator[Store]:
        """One atomic unit of work: all writes commit together or not at all."""
        with self.lock:
            if self._in_tx:
                self._in_tx += 1
                try:
                    yield self
                finally:
                    self._in_tx -= 1
                return
            self._in_tx = 1
            self.conn.execute("BEGIN")
            seq_before = self._seq
            try:
                yield self
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._seq = seq_before
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._in_tx = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def _one(self, sql: str, *args: Any) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None else _load(row[0])

    def _all(self, sql: str, *args: Any) -> list[Any]:
        return [_load(r[0]) for r in self.conn.execute(sql, args).fetchall()]

    # -- users --------------------------------------------------------------------------------

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM users WHERE user_id = ?", user_id)

    def put_user(self, user: dict[str, Any]) -> None:
        if "seq" not in user:
            user["seq"] = self.next_seq()
        self.conn.execute("INSERT OR REPLACE INTO users (user_id, seq, data) VALUES (?, ?, ?)",
                          (user["user_id"], user["seq"], _dump(user)))

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT data FROM users ORDER BY seq")

    def users_by_id(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not user_ids:
            return {}
        with self.lock:
            marks = ",".join("?" * len(user_ids))
            rows = self.conn.execute(f"SELECT user_id, data FROM users WHERE user_id IN ({marks})",
                                     tuple(user_ids)).fetchall()
        return {uid: _load(data) for uid, data in rows}

    def identities(self) -> list[dict[str, Any]]:
        """Every stored identity, with ``user_id`` and ``identity_type`` filled in."""
        return [dict(u["identity"], user_id=u["user_id"]) for u in self.users() if u.get("identity")]

    # -- conversations ------------------------------------------------------------------------

    def conversation(self, conv_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM conversations WHERE uuid = ?", conv_uuid)

    def put_conversation(self, conv: dict[str, Any]) -> None:
        if "seq" not in conv:
            conv["seq"] = self.next_seq()
        self.conn.execute(
            "INSERT OR REPLACE INTO conversations (uuid, seq, deleted, distinct_key, data) VALUES (?, ?, ?, ?, ?)",
            (conv["uuid"], conv["seq"], 1 if conv.get("deleted_at") else 0, conv.get("distinct_key"), _dump(conv)))
        self.conn.execute("DELETE FROM members WHERE conversation = ?", (conv["uuid"],))
        if not conv.get("deleted_at"):
            self.conn.executemany("INSERT OR IGNORE INTO members (user_id, conversation) VALUES (?, ?)",
                                  [(u, conv["uuid"]) for u in conv["participants"]])

    def find_distinct(self, key: str) -> dict[str, Any] | None:
        return self._one("SELECT data FROM conversations WHERE distinct_key = ? AND deleted = 0 "
                         "ORDER BY seq LIMIT 1", key)

    def conversations_of(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT c.data FROM conversations c JOIN members m ON m.conversation = c.uuid "
                             "WHERE m.user_id = ? AND c.deleted = 0", user_id)

    def is_participant(self, user_id: str) -> bool:
        """Whether ``user_id`` is a participant of at least one live conversation."""
        with self.lock:
            return self.conn.execute("SELECT 1 FROM members WHERE user_id = ? LIMIT 1",
                                     (user_id,)).fetchone() is not None

    def conversations(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT data FROM conversations ORDER BY seq")

    # -- messages -----------------------------------------------------------------------------

    def message(self, msg_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM messages WHERE uuid = ?", msg_uuid)

    def put_message(self, msg: dict[str, Any]) -> None:
        new = "seq" not in msg
        if new:
            msg["seq"] = self.next_seq()
        self.conn.execute(
            "INSERT OR REPLACE INTO messages (uuid, seq, conversation, deleted, data) VALUES (?, ?, ?, ?, ?)",
            (msg["uuid"], msg["seq"], msg["conversation"], 1 if msg.get("deleted_at") else 0, _dump(msg)))
        # Derived index of unread messages per user, so unread counts and badges stay O(1) reads.
        if not new:
            self.conn.execute("DELETE FROM unread WHERE message = ?", (msg["uuid"],))
        if not msg.get("deleted_at"):
            sender = msg["sender"].get("user_id")
            self.conn.executemany(
                "INSERT OR IGNORE INTO unread (user_id, conversation, message) VALUES (?, ?, ?)",
                [(u, msg["conversation"], msg["uuid"]) for u, st in msg["recipient_status"].items()
                 if u != sender and st != "read"])

    def unread_count(self, user_id: str, conv_uuid: str) -> int:
        with self.lock:
            return self.conn.execute("SELECT COUNT(*) FROM unread WHERE user_id = ? AND conversation = ?",
                                     (user_id, conv_uuid)).fetchone()[0]

    def messages_page(self, conv_uuid: str, before_seq: int | None, limit: int) -> list[dict[str, Any]]:
        """Live messages of a conversation, newest first, older than ``before_seq``."""
        with self.lock:
            if before_seq is None:
                return self._all("SELECT data FROM messages WHERE conversation = ? AND deleted = 0 "
                                 "ORDER BY seq DESC LIMIT ?", conv_uuid, limit)
            return self._all("SELECT data FROM messages WHERE conversation = ? AND deleted = 0 AND seq < ? "
                             "ORDER BY seq DESC LIMIT ?", conv_uuid, before_seq, limit)

    def count_messages(self, conv_uuid: str) -> int:
        with self.lock:
            return self.conn.execute("SELECT COUNT(*) FROM messages WHERE conversation = ? AND deleted = 0",
                                     (conv_uuid,)).fetchone()[0]

    def messages_in(self, conv_uuid: str) -> list[dict[str, Any]]:
        """Live messages of a conversation, newest first."""
        with self.lock:
            return self._all("SELECT data FROM messages WHERE conversation = ? AND deleted = 0 "
                             "ORDER BY seq DESC", conv_uuid)

    def last_message(self, conv_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM messages WHERE conversation = ? AND deleted = 0 "
                             "ORDER BY seq DESC LIMIT 1", conv_uuid)

    def messages(self, conversation: str | None = None, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Inspection: every message (oldest first), optionally of one conversation (UUID or URI)."""
        sql = "SELECT data FROM messages WHERE 1=1"
        args: list[Any] = []
        if conversation:
            sql += " AND conversation = ?"
            args.append(conversation.rsplit("/", 1)[-1])
        if not include_deleted:
            sql += " AND deleted = 0"
        with self.lock:
            return self._all(sql + " ORDER BY seq", *args)

    # -- announcements and notifications ------------------------------------------------------

    def put_announcement(self, ann: dict[str, Any]) -> None:
        ann.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT OR REPLACE INTO announcements (uuid, seq, data) VALUES (?, ?, ?)",
                          (ann["uuid"], ann["seq"], _dump(ann)))

    def announcement(self, ann_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM announcements WHERE uuid = ?", ann_uuid)

    def announcements(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT data FROM announcements ORDER BY seq")

    def add_notification(self, note: dict[str, Any]) -> None:
        note.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT INTO notifications (seq, data) VALUES (?, ?)", (note["seq"], _dump(note)))

    def notifications(self) -> list[dict[str, Any]]:
        """Every push notification requested: ad-hoc, per message and per announcement."""
        with self.lock:
            return self._all("SELECT data FROM notifications ORDER BY seq")

    # -- blocks and following -----------------------------------------------------------------

    def blocked_by(self, owner: str) -> list[str]:
        with self.lock:
            return [r[0] for r in self.conn.execute(
                "SELECT blocked FROM blocks WHERE owner = ? ORDER BY seq", (owner,)).fetchall()]

    def blocks(self, owner: str | None = None) -> list[dict[str, str]] | list[str]:
        """Inspection: ``blocks(owner)`` → blocked user ids; ``blocks()`` → every (owner, blocked)."""
        if owner is not None:
            return self.blocked_by(owner)
        with self.lock:
            return [{"owner": o, "blocked": b} for o, b in self.conn.execute(
                "SELECT owner, blocked FROM blocks ORDER BY seq").fetchall()]

    def block(self, owner: str, blocked: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO blocks (owner, blocked, seq) VALUES (?, ?, ?)",
                          (owner, blocked, self.next_seq()))

    def unblock(self, owner: str, blocked: str | None = None) -> None:
        if blocked is None:
            self.conn.execute("DELETE FROM blocks WHERE owner = ?", (owner,))
        else:
            self.conn.execute("DELETE FROM blocks WHERE owner = ? AND blocked = ?", (owner, blocked))

    def is_blocked_between(self, users: list[str]) -> tuple[str, str] | None:
        """An (owner, blocked) pair inside ``users``, if any (participant_blocked)."""
        if len(users) < 2:
            return None
        marks = ",".join("?" * len(users))
        row = self.conn.execute(f"SELECT owner, blocked FROM blocks WHERE owner IN ({marks}) "
                                f"AND blocked IN ({marks}) LIMIT 1", (*users, *users)).fetchone()
        return None if row is None else (row[0], row[1])

    def followed_by(self, follower: str) -> list[str]:
        with self.lock:
            return [r[0] for r in self.conn.execute(
                "SELECT followed FROM following WHERE follower = ? ORDER BY seq", (follower,)).fetchall()]

    def follow(self, follower: str, followed: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO following (follower, followed, seq) VALUES (?, ?, ?)",
                          (follower, followed, self.next_seq()))

    def unfollow(self, follower: str, followed: str) -> None:
        self.conn.execute("DELETE FROM following WHERE follower = ? AND followed = ?", (follower, followed))

    def following(self) -> list[dict[str, str]]:
        with self.lock:
            return [{"follower": a, "followed": b} for a, b in self.conn.execute(
                "SELECT follower, followed FROM following ORDER BY seq").fetchall()]

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, wh_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM webhooks WHERE uuid = ?", wh_uuid)

    def put_webhook(self, wh: dict[str, Any]) -> None:
        wh.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT OR REPLACE INTO webhooks (uuid, seq, data) VALUES (?, ?, ?)",
                          (wh["uuid"], wh["seq"], _dump(wh)))

    def delete_webhook(self, wh_uuid: str) -> None:
        self.conn.execute("DELETE FROM webhooks WHERE uuid = ?", (wh_uuid,))

    def webhooks(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT data FROM webhooks ORDER BY seq")

    def put_delivery(self, d: dict[str, Any]) -> None:
        d.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT OR REPLACE INTO deliveries (id, seq, data) VALUES (?, ?, ?)",
                          (d["id"], d["seq"], _dump(d)))

    def delivery(self, request_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM deliveries WHERE id = ?", request_id)

    def webhook_deliveries(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Inspection: every webhook delivery (with its raw body, headers and attempts)."""
        with self.lock:
            found = self._all("SELECT data FROM deliveries ORDER BY seq")
        return [d for d in found if event_type is None or d["event_type"] == event_type]

    # -- misc documents -----------------------------------------------------------------------

    def dedupe_get(self, key: str) -> dict[str, Any] | None:
        return self._one("SELECT data FROM dedupe WHERE key = ?", key)

    def dedupe_put(self, key: str, value: dict[str, Any]) -> None:
        self.conn.execute("INSERT OR REPLACE INTO dedupe (key, data) VALUES (?, ?)", (key, _dump(value)))

    def get_kv(self, key: str, default: Any = None) -> Any:
        with self.lock:
            found = self._one("SELECT data FROM kv WHERE key = ?", key)
        return default if found is None else found

    def put_kv(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO kv (key, data) VALUES (?, ?)", (key, _dump(value)))

    def put_export(self, exp: dict[str, Any]) -> None:
        exp.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT OR REPLACE INTO exports (uuid, seq, data) VALUES (?, ?, ?)",
                          (exp["uuid"], exp["seq"], _dump(exp)))

    def export(self, exp_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            return self._one("SELECT data FROM exports WHERE uuid = ?", exp_uuid)

    def exports(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT data FROM exports ORDER BY seq DESC")

    def delete_export(self, exp_uuid: str) -> None:
        self.conn.execute("DELETE FROM exports WHERE uuid = ?", (exp_uuid,))

    def put_content(self, c: dict[str, Any], data: bytes | None = None) -> None:
        c.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT OR REPLACE INTO content (uuid, seq, data, bytes) VALUES (?, ?, ?, ?)",
                          (c["uuid"], c["seq"], _dump(c), data))

    def content(self, c_uuid: str) -> tuple[dict[str, Any], bytes | None] | None:
        with self.lock:
            row = self.conn.execute("SELECT data, bytes FROM content WHERE uuid = ?", (c_uuid,)).fetchone()
        return None if row is None else (_load(row[0]), row[1])

    def add_session_reset(self, entry: dict[str, Any]) -> None:
        entry.setdefault("seq", self.next_seq())
        self.conn.execute("INSERT INTO sessions (seq, data) VALUES (?, ?)", (entry["seq"], _dump(entry)))

    def session_resets(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._all("SELECT data FROM sessions ORDER BY seq")
