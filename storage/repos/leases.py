"""Leases on shared work (PostgreSQL only; see bot/coordination/leases.py).

Every statement compares with the database's clock (clock_timestamp()), so instances
whose clocks disagree still agree on who holds what. Claims use `FOR UPDATE SKIP LOCKED`:
two instances claiming at the same moment never wait for each other, nor take the same
row.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_UNTIL = "clock_timestamp() + make_interval(secs => :ttl)"
INSTANCE = "instance:"
ACCOUNT = "account:"


class LeaseRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def heartbeat(self, me: str, ttl: float) -> int:
        """Say this instance is alive; returns how many instances are (itself included)."""
        await self.conn.execute(text(
            "INSERT INTO leases (name, holder, expires_at) "
            f"VALUES (:name, :me, {_UNTIL}) ON CONFLICT (name) DO UPDATE "
            "SET holder = excluded.holder, expires_at = excluded.expires_at"),
            {"name": INSTANCE + me, "me": me, "ttl": ttl})
        # Heartbeats of instances gone for long are dropped (a restart gets a new id).
        # (SKIP LOCKED: two instances cleaning up at once never wait for each other.)
        await self.conn.execute(text(
            "DELETE FROM leases WHERE name IN (SELECT name FROM leases "
            "WHERE name LIKE 'instance:%' AND expires_at < clock_timestamp() - interval "
            "'1 hour' FOR UPDATE SKIP LOCKED)"))
        return int((await self.conn.execute(text(
            "SELECT count(*) FROM leases WHERE name LIKE 'instance:%' "
            "AND expires_at > clock_timestamp()"))).scalar_one())

    async def ensure(self, names: Collection[str]) -> None:
        """Rows for work nobody has held yet (free: no holder, expired from now on)."""
        if names:
            await self.conn.execute(text(
                "INSERT INTO leases (name, holder, expires_at) "
                "SELECT unnest(CAST(:names AS varchar[])), '', clock_timestamp() "
                "ON CONFLICT (name) DO NOTHING"), {"names": list(names)})

    async def drop_unwanted(self, me: str, prefix: str, names: Collection[str]) -> None:
        """Leases on work that is over (mine, or nobody's)."""
        await self.conn.execute(text(
            "DELETE FROM leases WHERE name IN (SELECT name FROM leases WHERE name LIKE "
            ":prefix AND (holder = :me OR holder = '') "
            "AND NOT (name = ANY(CAST(:names AS varchar[]))) FOR UPDATE SKIP LOCKED)"),
            {"prefix": prefix + "%", "me": me, "names": list(names)})

    async def renew_mine(self, me: str, names: Collection[str], ttl: float) -> list[str]:
        rows = await self.conn.execute(text(
            f"UPDATE leases SET expires_at = {_UNTIL} "
            "WHERE holder = :me AND name = ANY(CAST(:names AS varchar[])) RETURNING name"),
            {"me": me, "names": list(names), "ttl": ttl})
        return sorted(r[0] for r in rows)

    async def claim(self, me: str, names: Collection[str], ttl: float, *, limit: int,
                    orphaned_for: float | None = None) -> list[str]:
        """Take up to `limit` free or expired leases among `names` (`orphaned_for`: only
        those expired for at least that many seconds)."""
        if limit <= 0 or not names:
            return []
        since = ("clock_timestamp()" if orphaned_for is None
                 else "clock_timestamp() - make_interval(secs => :orphaned)")
        rows = await self.conn.execute(text(
            "SELECT name FROM leases WHERE name = ANY(CAST(:names AS varchar[])) "
            f"AND holder <> :me AND expires_at < {since} ORDER BY name LIMIT :limit "
            "FOR UPDATE SKIP LOCKED"),
            {"names": list(names), "me": me, "limit": limit, "orphaned": orphaned_for or 0.0})
        taken = [r[0] for r in rows]
        if taken:
            await self.conn.execute(text(
                f"UPDATE leases SET holder = :me, expires_at = {_UNTIL} "
                "WHERE name = ANY(CAST(:names AS varchar[]))"),
                {"me": me, "names": taken, "ttl": ttl})
        return taken

    async def give_back(self, me: str, names: Collection[str]) -> None:
        """Free leases (expired from now: not "orphaned" before a ttl has passed)."""
        if names:
            await self.conn.execute(text(
                "UPDATE leases SET holder = '', expires_at = clock_timestamp() "
                "WHERE holder = :me AND name = ANY(CAST(:names AS varchar[]))"),
                {"me": me, "names": list(names)})

    async def give_back_all(self, me: str) -> None:
        """Free everything this instance holds and end its heartbeat (a clean stop)."""
        await self.conn.execute(text(
            "UPDATE leases SET holder = '', expires_at = clock_timestamp() "
            "WHERE holder = :me"),
            {"me": me})

    async def take(self, name: str, me: str, ttl: float) -> bool:
        """Take or keep one named lease (a leader's); False when another holds it."""
        row = (await self.conn.execute(text(
            f"INSERT INTO leases (name, holder, expires_at) VALUES (:name, :me, {_UNTIL}) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at "
            "WHERE leases.holder = :me OR leases.expires_at < clock_timestamp() "
            "RETURNING name"), {"name": name, "me": me, "ttl": ttl})).first()
        return row is not None

    async def holder(self, name: str) -> str | None:
        row = (await self.conn.execute(text(
            "SELECT holder FROM leases WHERE name = :name "
            "AND expires_at > clock_timestamp()"), {"name": name})).first()
        return str(row[0]) if row is not None and row[0] else None
