"""Which instance polls which account: leases in PostgreSQL, renewed every poll tick.

Each tick an instance (1) says it is alive (its heartbeat lease), (2) keeps the account
leases it holds, (3) takes free or expired ones up to its fair share (running accounts /
live instances, rounded up) with `FOR UPDATE SKIP LOCKED`, and (4) hands back what it
holds beyond that share, so a new instance gets work within a tick or two. One short
transaction, a handful of statements, whatever the number of accounts.

A lease lives `lease_ttl(interval)`: a few poll intervals. An instance that dies stops
renewing; its heartbeat and its leases expire together and the others take its accounts
at their next tick. An account whose lease has been expired for a whole ttl is taken by
anyone, share or not, so no account is ever left unpolled for long.

Leases make the work efficient, not correct: two instances that briefly both poll one
account (a lease taken over from a stalled but living instance) only ask the provider
twice. What must happen once (a code recorded and sent, a cancel) is serialised by the
activation lock (bot/coordination/locks.py).
"""

from __future__ import annotations

import logging
import math

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.repos.leases import ACCOUNT, LeaseRepo

log = logging.getLogger(__name__)


def lease_ttl(interval: float) -> float:
    """Seconds a lease outlives its last renewal: three missed ticks, at least 3 s."""
    return max(4 * interval, 3.0)


class AccountLeases:
    def __init__(self, engine: AsyncEngine, me: str, *, ttl: float) -> None:
        self.engine = engine
        self.me = me
        self.ttl = ttl
        self.mine: set[int] = set()
        self.instances = 1  # live instances at the last tick (for logs and tests)

    async def settle(self, wanted: set[int]) -> set[int]:
        """The accounts among `wanted` this instance polls this tick. When the database
        cannot be reached, the leases still held (not yet expired) are kept: they are
        ours until they expire."""
        names = {f"{ACCOUNT}{i}" for i in wanted}
        try:
            async with self.engine.begin() as conn:
                repo = LeaseRepo(conn)
                live = await repo.heartbeat(self.me, self.ttl)
                await repo.drop_unwanted(self.me, ACCOUNT, names)
                await repo.ensure(names)
                held = await repo.renew_mine(self.me, names, self.ttl)
                share = math.ceil(len(names) / max(live, 1))
                if len(held) > share:
                    extra = held[share:]
                    await repo.give_back(self.me, extra)
                    held = held[:share]
                else:
                    held += await repo.claim(self.me, names, self.ttl,
                                             limit=share - len(held))
                # Nobody took these for a whole ttl (an instance counted as live that
                # polls nothing, say): whoever sees them takes them.
                held += await repo.claim(self.me, names, self.ttl, limit=len(names),
                                         orphaned_for=self.ttl)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("account leases not renewed: %s", exc)
            return self.mine & wanted
        mine = {int(n.removeprefix(ACCOUNT)) for n in held}
        if live != self.instances:
            log.info("%d instances live", live)
        if mine != self.mine:
            log.debug("polling %d of %d accounts (%d instances live)", len(mine), len(wanted),
                     live)
        self.mine, self.instances = mine, live
        return mine

    async def release(self) -> None:
        """A clean stop: hand everything back at once, so the others need not wait for
        the leases to expire."""
        try:
            async with self.engine.begin() as conn:
                await LeaseRepo(conn).give_back_all(self.me)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("leases not handed back (they expire by themselves): %s", exc)
        self.mine = set()
