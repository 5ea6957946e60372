"""Engine, sessions and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

SessionFactory = async_sessionmaker[AsyncSession]


class _TrackedSession(Session):
    """The synchronous session under a ShortSession: knows whether it is part of a write."""

    writing = False


# Listeners on the class, not on each session: a session's own listeners tie it in a
# reference cycle (session -> its event dispatch -> the bound method -> session) that only
# the cyclic collector frees, ~15 objects per session, two sessions per update; with the
# young generation collected every 20,000 allocations (bot/gctune.py) they piled up in
# bursts and raised the heap for good (bench/RESULTS.md, branch mem2).
@event.listens_for(_TrackedSession, "after_flush")
def _flushed(session: _TrackedSession, _context: Any) -> None:
    session.writing = True


@event.listens_for(_TrackedSession, "after_transaction_end")
def _ended(session: _TrackedSession, transaction: Any) -> None:
    if transaction.parent is None:
        session.writing = False


class ShortSession(AsyncSession):
    """A session that holds a pool connection only while it works with the database.

    A session keeps the connection of its transaction until commit or rollback, and a read
    opens a transaction. A handler that reads (the user's row, the account) and then waits
    for the provider held a connection all that time: twenty people on a hanging provider
    took the whole pool, and codes waited behind them. Here a read that is not part of a
    write ends its transaction at once (objects stay usable: expire_on_commit is off);
    writes keep theirs until the repository commits, as before.
    """

    sync_session_class = _TrackedSession
    sync_session: _TrackedSession

    @property
    def _writing(self) -> bool:
        return self.sync_session.writing

    @_writing.setter
    def _writing(self, value: bool) -> None:
        self.sync_session.writing = value

    async def _release(self) -> None:
        if self._writing or self.new or self.dirty or self.deleted:
            return
        if self.in_transaction() and not self.in_nested_transaction():
            await self.commit()  # nothing to write: it only ends the transaction

    async def exec(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(statement, "is_dml", False):
            self._writing = True  # UPDATE/DELETE: part of a write, committed by its caller
        result = await super().exec(statement, *args, **kwargs)
        await self._release()
        return result

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(statement, "is_dml", False):
            self._writing = True
        result = await super().execute(statement, *args, **kwargs)
        await self._release()
        return result

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        found = await super().get(*args, **kwargs)
        await self._release()
        return found


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """`options` go to SQLAlchemy as they are (pool_size, max_overflow, pool_timeout...)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **{**kwargs, **options})
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the poller write while handlers read; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=ShortSession, expire_on_commit=False)


# Alembic is imported where it runs, not with this module: `python -m bot` migrates in a
# child process (bot/migrate.py), so the long-running process never loads it (~12 MiB).
def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


# The advisory lock around migrations (bot/coordination/locks.py keeps its keys apart).
MIGRATION_LOCK = (3 << 48) | 1


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; run at every start).

    On PostgreSQL several instances may start together: the first takes a transaction
    advisory lock and migrates, the others wait for it, then find nothing left to do (the
    lock is released when the migration's transaction commits)."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                     {"k": MIGRATION_LOCK})
        await connection.run_sync(_upgrade)
