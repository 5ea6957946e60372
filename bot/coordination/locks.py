"""One actor at a time on an activation (cancel, complete, another code, the end of life,
a code recorded and sent) or on a purchase intent, across instances.

In-process first (an asyncio.Lock per key, as with one process), then, on PostgreSQL, a
session advisory lock held on a connection of its own for as long as the work runs. A
lock dies with its connection: an instance killed in the middle frees its locks at once
and another instance goes on where it stopped (what it did is in the database, what it
did not is done again: every step is written before the next one starts).
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

# Key spaces, so that activation 7 and intent 7 are different locks.
ACTIVATION = 1
INTENT = 2
MIGRATIONS = 3  # storage/db.py: one instance migrates, the others wait


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def advisory_key(space: int, key: int) -> int:
    """One signed 64-bit advisory lock id per (space, key)."""
    return (space << 48) | (key & ((1 << 48) - 1))


class SharedLock:
    """`async with` it. One object per key and process, so `locked()` means this process."""

    def __init__(self, owner: Locks, space: int, key: int) -> None:
        self._owner = owner
        self._space, self._key = space, key
        self._local = asyncio.Lock()
        self._conn: AsyncConnection | None = None

    def locked(self) -> bool:
        return self._local.locked()

    async def acquire(self) -> None:
        await self._local.acquire()
        try:
            self._conn = await self._owner.advisory(self._space, self._key, wait=True)
        except BaseException:
            self._local.release()
            raise

    async def __aenter__(self) -> SharedLock:
        await self.acquire()
        return self

    async def try_acquire(self) -> bool:
        """Take it only if nobody holds it, here or on another instance."""
        if self._local.locked():
            return False
        await self._local.acquire()
        try:
            self._conn = await self._owner.advisory(self._space, self._key, wait=False)
        except BaseException:
            self._local.release()
            raise
        if self._owner.shared and self._conn is None:
            self._local.release()
            return False
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                await self._owner.unlock(conn, self._space, self._key)
        finally:
            self._local.release()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.release()


class Locks:
    """The locks of one process. `url` of a PostgreSQL database makes them shared."""

    def __init__(self, url: str | None = None, *, pool_size: int = 2,
                 max_overflow: int = 30, instance: str | None = None) -> None:
        # The instance's name in leases (bot/app.py): what its code sends are signed with,
        # so the others can tell by its heartbeat whether it still lives.
        self.instance = instance
        self._locks: dict[tuple[int, int], SharedLock] = {}
        self._engine: AsyncEngine | None = None
        if url is not None and is_postgres(url):
            # A pool of its own: a held lock keeps its connection, and must never wait for
            # one the work it guards is using.
            self._engine = create_async_engine(url, pool_size=pool_size,
                                               max_overflow=max_overflow, pool_pre_ping=True)

    @property
    def shared(self) -> bool:
        return self._engine is not None

    def lock(self, space: int, key: int) -> SharedLock:
        found = self._locks.get((space, key))
        if found is None:
            found = self._locks[(space, key)] = SharedLock(self, space, key)
        return found

    def forget(self, space: int, key: int) -> None:
        found = self._locks.get((space, key))
        if found is not None and not found.locked():
            del self._locks[(space, key)]

    async def advisory(self, space: int, key: int, *, wait: bool) -> AsyncConnection | None:
        """The connection holding the advisory lock; None when in-process only or (not
        waiting) when another session holds it."""
        if self._engine is None:
            return None
        conn = await self._engine.connect()
        try:
            sql = "SELECT pg_advisory_lock(:k)" if wait else "SELECT pg_try_advisory_lock(:k)"
            got = (await conn.execute(text(sql), {"k": advisory_key(space, key)})).scalar()
            await conn.commit()  # session lock: it outlives the transaction
        except BaseException:
            # Cancelled or failed mid-way: the lock may or may not be ours, so the
            # connection is thrown away (closing it frees whatever it holds).
            await asyncio.shield(_discard(conn))
            raise
        if not wait and not got:
            await conn.close()
            return None
        return conn

    async def unlock(self, conn: AsyncConnection, space: int, key: int) -> None:
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"),
                               {"k": advisory_key(space, key)})
            await conn.commit()
            await conn.close()
        except BaseException:
            await asyncio.shield(_discard(conn))
            raise

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()


async def _discard(conn: AsyncConnection) -> None:
    try:
        await conn.invalidate()
        await conn.close()
    except Exception as exc:  # the connection is gone either way
        log.debug("lock connection discarded: %s", exc)
