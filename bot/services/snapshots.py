"""Rows every update reads, kept in memory: the person's settings, the account that pays,
the open buy menu.

Each update used to read the user's row (context middleware), the paying account (once or
twice) and the menu row before the handler did anything: 2 to 7 statements, and with
aiosqlite each statement is several hand-offs to its thread and back (cursor, execute,
fetch, close, commit). Measured with py-spy under `bench.latency`, that hand-off was the
largest share of the bot's CPU per update.

Only when the bot runs as one instance (SQLite; `Lookups.for_instances`): with several,
another instance's changes would not be seen. Correctness rests on every change being
seen. The user's row and menu change only through
services that forget the entry (SettingsService, MenuStore).
Accounts change in more places (keys set and removed, the currency learnt by the buying
code, a group's migration, retired keys wiped by the poller), so besides the services'
own `forget`, `watch_account_writes` drops every kept account whenever a statement of this
process changes a row of `accounts`, and again when that transaction commits or rolls back
(a reader in between could have read the old row). "No account" is not kept. `ttl` bounds
how long anything written outside the bot process (an operator's SQL) stays unseen.

A reader that started before a change must not put the old value back after it: each key
has a version, bumped by `forget` (all of them by `forget_all`), and `put` only stores
what was read under the current version.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.dto import UserInfo

if TYPE_CHECKING:
    from datetime import datetime

K = TypeVar("K")
V = TypeVar("V")
Version = tuple[int, int]  # (generation of the whole cache, the key's own)

TTL = 300.0  # seconds
MAX_ENTRIES = 100_000  # per kind; about 60 MiB at most for all three together


class Snapshots(Generic[K, V]):
    """Values read from the database by key, each kept for `ttl` seconds."""

    def __init__(self, *, ttl: float = TTL, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic, enabled: bool = True) -> None:
        self.enabled = enabled  # off: every get misses, nothing is kept
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._values: dict[K, tuple[float, V]] = {}
        self._versions: dict[K, int] = {}
        self._generation = 0
        self._next_sweep = clock() + ttl
        self.hits = self.misses = 0

    def get(self, key: K) -> V | None:
        if not self.enabled:
            return None
        entry = self._values.get(key)
        if entry is None or entry[0] < self.clock():
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def version(self, key: K) -> Version:
        """Take it before reading the row; hand it to `put`."""
        return self._generation, self._versions.get(key, 0)

    def put(self, key: K, value: V, version: Version) -> None:
        if not self.enabled or self.version(key) != version:
            return  # changed while it was being read: the next reader reads again
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        if key not in self._values and len(self._values) >= self.max_entries:
            del self._values[next(iter(self._values))]  # the oldest entry
        self._values[key] = (now + self.ttl, value)

    def _sweep(self, now: float) -> None:
        # Expired entries are never read again: without this they stayed until the
        # max_entries bound pushed them out (10,000 people once: ~1.7 MiB kept for good).
        # One pass per ttl, over at most max_entries.
        for key in [k for k, (until, _) in self._values.items() if until < now]:
            del self._values[key]
        self._next_sweep = now + self.ttl

    async def read(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The kept value, or `load()`'s (kept unless None, and unless the key was
        forgotten while it loaded)."""
        found = self.get(key)
        if found is not None:
            return found
        version = self.version(key)
        value = await load()
        if value is not None:
            self.put(key, value, version)
        return value

    def forget(self, key: K) -> None:
        """The row changed (or is about to): drop it, and refuse what readers that started
        before now would put back."""
        self._values.pop(key, None)
        self._versions[key] = self._versions.get(key, 0) + 1
        if len(self._versions) > 2 * self.max_entries:
            # Versions only matter for reads in flight; restarting them all from scratch
            # now and then is safe, because the values go too.
            self.forget_all()

    def forget_all(self) -> None:
        self._values.clear()
        self._versions.clear()
        self._generation += 1


@dataclass(frozen=True, slots=True)
class MenuRow:
    """The buy menu remembered for a private chat (whose id is the user's)."""

    message_id: int | None
    kind: str | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class KeptAccount:
    """What the menus need of an account (a copy: an ORM row is about 2 KiB, this ~0.3)."""

    id: int | None
    owner_id: int
    key_encrypted: str
    key_hint: str
    currency: int | None


@dataclass(frozen=True, slots=True)
class MenuEntries:
    """What the service menu puts first for a person: favourites, then recently bought."""

    favourites: tuple[str, ...]
    recent: tuple[str, ...]


@dataclass
class Lookups:
    """The caches, shared by the services that read and change those rows."""

    users: Snapshots[int, UserInfo] = field(default_factory=Snapshots)
    accounts: Snapshots[int, KeptAccount] = field(default_factory=Snapshots)  # by owner id
    menus: Snapshots[int, MenuRow] = field(default_factory=Snapshots)  # by user id
    # By user id; every write to `favourites`, and every new, removed or re-attributed
    # activation, drops them all (`watch_entry_writes`).
    entries: Snapshots[int, MenuEntries] = field(default_factory=Snapshots)

    @classmethod
    def for_instances(cls, *, several: bool) -> Lookups:
        """Kept only when this is the one instance (SQLite). Several instances (PostgreSQL)
        answer one person's updates in turn, and a change made by one is not seen by the
        others' memory: a removed key must never pay on another instance, so there every
        update reads the rows, as before."""
        if not several:
            return cls()
        return cls(Snapshots(enabled=False), Snapshots(enabled=False),
                   Snapshots(enabled=False), Snapshots(enabled=False))


def _forget_on_writes(engine: AsyncEngine, kept: Snapshots[Any, Any],
                      changes: Callable[[str, Any], bool], mark: str) -> None:
    """Forget everything `kept` holds when a statement of this process `changes` what it
    was read from: at the statement, and again when its transaction ends (a read that
    started before the commit must not put the old row back)."""

    def after_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if changes(statement, cursor):
            conn.info[mark] = True
            kept.forget_all()

    def ended(conn: Any) -> None:
        if conn.info.pop(mark, False):
            kept.forget_all()

    sync = engine.sync_engine
    event.listen(sync, "after_cursor_execute", after_execute)
    event.listen(sync, "commit", ended)
    event.listen(sync, "rollback", ended)


def _changes_accounts(statement: str, cursor: Any) -> bool:
    head = statement.lstrip()[:24].upper()
    return (head.startswith(("UPDATE ACCOUNTS", "INSERT INTO ACCOUNTS", "DELETE FROM ACCOUNTS"))
            and cursor.rowcount != 0)


def watch_account_writes(engine: AsyncEngine, kept: Snapshots[int, KeptAccount]) -> None:
    """Forget every kept account when this process changes the `accounts` table (see the
    module docstring)."""
    _forget_on_writes(engine, kept, _changes_accounts, "koalabot.accounts_written")


def changes_entries(statement: str) -> bool:
    """Whether a statement may change what `MenuEntries` holds: a write to `favourites`, a
    new or removed activation, or one whose buyer or service is set (status updates, the
    poller's daily bread, are not)."""
    head = statement.lstrip()[:32].upper()
    if head.startswith(("INSERT INTO FAVOURITES", "DELETE FROM FAVOURITES",
                        "UPDATE FAVOURITES", "INSERT INTO ACTIVATIONS",
                        "DELETE FROM ACTIVATIONS")):
        return True
    if head.startswith("UPDATE ACTIVATIONS"):
        assignments = statement.upper().split(" WHERE ", 1)[0]
        return "BUYER_ID" in assignments or "SERVICE" in assignments
    return False


def watch_entry_writes(engine: AsyncEngine, kept: Snapshots[int, MenuEntries]) -> None:
    """Forget every kept `MenuEntries` when this process writes what they are read from."""
    _forget_on_writes(engine, kept, lambda statement, _: changes_entries(statement),
                      "koalabot.entries_written")
