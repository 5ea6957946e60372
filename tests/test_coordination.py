"""The pieces several instances share, on the real PostgreSQL: migrations run once when
instances start together, account leases split the work and pass on when an instance
dies, the activation lock holds across instances, the polling leader hands over. The
Buy-press record works on SQLite too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.coordination import ACTIVATION, AccountLeases, Leader, Locks
from storage.db import create_engine, migrate, session_factory
from storage.models import utcnow
from storage.repos import CLAIM_DONE, CLAIM_HELD, BuyClaimRepo
from tests.helpers import until
from tests.test_backends import needs_postgres, pg_database  # noqa: F401  (a fixture)
from tests.test_storage import head_revision

ACCOUNTS = set(range(1, 11))


@pytest.fixture
async def pg(pg_database: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    engine = create_engine(pg_database)
    await migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@needs_postgres
async def test_instances_starting_together_migrate_once(pg_database: str) -> None:  # noqa: F811
    engines = [create_engine(pg_database) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(e) for e in engines))  # no "table already exists"
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))
                        ).scalars().all()
        assert versions == [head_revision()]
    finally:
        for engine in engines:
            await engine.dispose()



@needs_postgres
async def test_account_leases_split_the_work_and_pass_on_when_an_instance_dies(
        pg: AsyncEngine) -> None:
    a = AccountLeases(pg, "host:1:aaaaaa", ttl=1.0)
    b = AccountLeases(pg, "host:2:bbbbbb", ttl=1.0)
    assert await a.settle(ACCOUNTS) == ACCOUNTS  # alone: everything
    assert await b.settle(ACCOUNTS) == set()  # all held and fresh: nothing to take yet
    mine_a = await a.settle(ACCOUNTS)  # two live now: A hands back its extra half
    assert len(mine_a) == 5
    mine_b = await b.settle(ACCOUNTS)
    assert mine_b == ACCOUNTS - mine_a  # never the same account twice
    assert await a.settle(ACCOUNTS) == mine_a  # stable once shared
    # A dies (stops renewing): once its leases expire B takes them all.
    async def b_has_all() -> bool:
        return await b.settle(ACCOUNTS) == ACCOUNTS
    await until(b_has_all, "B takes over A's accounts")
    # A finished account is dropped; a new one goes to whoever asks.
    assert await b.settle(ACCOUNTS - {1} | {11}) == ACCOUNTS - {1} | {11}
    await b.release()  # a clean stop hands everything back at once
    c = AccountLeases(pg, "host:3:cccccc", ttl=1.0)
    assert await c.settle(ACCOUNTS) == ACCOUNTS


@needs_postgres
async def test_the_activation_lock_holds_across_instances(pg_database: str) -> None:  # noqa: F811
    one, two = Locks(pg_database), Locks(pg_database)
    try:
        order: list[str] = []
        async with one.lock(ACTIVATION, 7):
            other = two.lock(ACTIVATION, 7)
            assert not await other.try_acquire()  # another "instance" holds it
            waiter = asyncio.create_task(_hold(two, 7, order))
            await asyncio.sleep(0.3)
            assert not waiter.done()  # waits for the first holder
            order.append("first done")
        await asyncio.wait_for(waiter, 10)
        assert order == ["first done", "second in"]
        assert await two.lock(ACTIVATION, 8).try_acquire()  # another activation: free
        await two.lock(ACTIVATION, 8).release()
    finally:
        await one.close()
        await two.close()


async def _hold(locks: Locks, key: int, order: list[str]) -> None:
    async with locks.lock(ACTIVATION, key):
        order.append("second in")


@needs_postgres
async def test_a_lock_dies_with_its_instance(pg_database: str) -> None:  # noqa: F811
    dead, alive = Locks(pg_database), Locks(pg_database)
    try:
        await dead.lock(ACTIVATION, 9).acquire()
        # The instance is killed: the server ends its sessions (the socket closes).
        async with alive._engine.connect() as conn:  # type: ignore[union-attr]
            await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"))
        async with asyncio.timeout(10):
            await alive.lock(ACTIVATION, 9).acquire()
        await alive.lock(ACTIVATION, 9).release()
    finally:
        await alive.close()
        with contextlib.suppress(Exception):  # its connection is gone: thrown away
            await dead.lock(ACTIVATION, 9).release()
        await dead.close()


@needs_postgres
async def test_a_standby_takes_over_polling_when_the_leader_stops(
        pg: AsyncEngine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.coordination.leader")
    first = Leader(pg, "host:1:aaaaaa", ttl=1.5)
    second = Leader(pg, "host:2:bbbbbb", ttl=1.5)
    assert await first.acquire()
    first.keep(lambda: None)
    standby = asyncio.create_task(second.acquire())
    await asyncio.sleep(1.0)
    assert not standby.done()  # the leader renews: the standby waits
    assert "standby: another instance is polling; waiting" in caplog.text
    await first.release()
    assert await asyncio.wait_for(standby, 10)
    assert "taking over polling" in caplog.text
    # The old leader no longer holds it: it would stand by in turn.
    stop = asyncio.Event()
    again = asyncio.create_task(first.acquire(stop))
    await asyncio.sleep(0.6)
    stop.set()
    assert await asyncio.wait_for(again, 10) is False
    await second.release()


async def test_a_buy_press_is_recorded_once(tmp_path: Path) -> None:
    """The idempotency record of a purchase: unique per (chat, menu message, button)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await migrate(engine)
    db = session_factory(engine)
    stale = utcnow() - timedelta(minutes=10)
    try:
        async with db() as session:
            assert await BuyClaimRepo(session).claim(1, 5, "b:ok:1", stale_before=stale) is None
        async with db() as session:  # the second tap: refused while the first buys
            assert await BuyClaimRepo(session).claim(1, 5, "b:ok:1",
                                                     stale_before=stale) == CLAIM_HELD
        async with db() as session:  # another button on the same menu is another press
            assert await BuyClaimRepo(session).claim(1, 5, "b:ok:2", stale_before=stale) is None
        async with db() as session:
            await BuyClaimRepo(session).settle(1, 5, bought=True)  # a lost answer: kept
        async with db() as session:
            assert await BuyClaimRepo(session).claim(1, 5, "b:ok:1",
                                                     stale_before=stale) == CLAIM_DONE
        async with db() as session:  # a press whose instance died is taken over later
            assert await BuyClaimRepo(session).claim(
                2, 6, "b:ok:1", stale_before=stale) is None
        async with db() as session:
            assert await BuyClaimRepo(session).claim(
                2, 6, "b:ok:1", stale_before=utcnow() + timedelta(seconds=1)) is None
    finally:
        await engine.dispose()


async def test_one_instance_on_sqlite_has_no_leases_and_local_locks(
        tmp_path: Path) -> None:
    """The default stays what it was: no lease query in a tick, locks in the process."""
    from bot.app import build_app, close_app
    from bot.sandbox.provider import ProviderSandbox
    from bot.sandbox.telegram import TelegramEmulator
    from tests.conftest import make_settings

    async with TelegramEmulator() as tg:
        provider = ProviderSandbox()
        await provider.start()
        app = await build_app(make_settings(tmp_path, provider, tg))
        try:
            assert app.poller.leases is None
            assert app.locks is not None
            assert not app.locks.shared
            assert type(app.manager.outbox).__name__ == "Outbox"
        finally:
            await close_app(app)
            await provider.stop()
