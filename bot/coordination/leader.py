"""Polling mode with several instances: Telegram serves getUpdates to one consumer per
token, so one instance polls (the leader) and the others wait as standbys.

The leader holds the `poll-leader` lease (PostgreSQL, bot/coordination/leases.py) and
renews it every third of its ttl. A standby tries to take it as often; it succeeds once
the leader stopped (a clean stop hands the lease back at once) or died (its lease expired:
within `ttl` seconds). A leader that cannot renew in time (a stall, the database away)
stops polling before its lease can pass to another, so two instances never poll at once
for longer than one getUpdates call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.repos.leases import LeaseRepo

log = logging.getLogger(__name__)

LEADER_TTL = 10.0
LEADER_LEASE = "poll-leader"


class Leader:
    def __init__(self, engine: AsyncEngine, me: str, *, name: str = LEADER_LEASE,
                 ttl: float = LEADER_TTL) -> None:
        self.engine = engine
        self.me = me
        self.name = name
        self.ttl = ttl
        self.lost = False
        self._keeper: asyncio.Task[None] | None = None

    async def _take(self) -> bool:
        try:
            async with self.engine.begin() as conn:
                return await LeaseRepo(conn).take(self.name, self.me, self.ttl)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("leader lease not reachable: %s", exc)
            return False

    async def acquire(self, stop: asyncio.Event | None = None) -> bool:
        """Wait until this instance leads (True) or `stop` is set (False)."""
        waited = False
        while not await self._take():
            if not waited:
                waited = True
                log.info("standby: another instance is polling; waiting")
            if stop is not None:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.ttl / 3)
                    return False
                except TimeoutError:
                    continue
            await asyncio.sleep(self.ttl / 3)
        log.info("taking over polling" if waited else "polling Telegram (leader)")
        self.lost = False
        return True

    def keep(self, on_lost: Callable[[], object]) -> None:
        """Renew in the background; `on_lost` is called once the lease is not ours."""
        self._keeper = asyncio.create_task(self._keep(on_lost), name="leader lease")

    async def _keep(self, on_lost: Callable[[], object]) -> None:
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(self.ttl / 3)
            if await self._take():
                renewed = loop.time()
                continue
            # Not renewed: give up polling before the lease can expire and pass on.
            if loop.time() - renewed >= self.ttl * 2 / 3 or await self._held_by_other():
                log.warning("leader lease lost; stopping polling")
                self.lost = True
                on_lost()
                return

    async def _held_by_other(self) -> bool:
        try:
            async with self.engine.begin() as conn:
                holder = await LeaseRepo(conn).holder(self.name)
        except (SQLAlchemyError, OSError):
            return False
        return holder is not None and holder != self.me

    async def release(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        try:
            async with self.engine.begin() as conn:
                await LeaseRepo(conn).give_back(self.me, [self.name])
        except (SQLAlchemyError, OSError) as exc:
            log.warning("leader lease not handed back (it expires by itself): %s", exc)
