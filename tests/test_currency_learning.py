"""A first poll over many new accounts learns every account's currency at once: the
writes go a few at a time, so a thousand sessions never wait together for the database
(they raised the heap by ~16 MiB at start-up, which the process keeps; bench/heap.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from sqlmodel import select

from bot.buying import CURRENCY_WRITES, Buyer
from storage.crypto import KeyBox
from storage.db import SessionFactory, create_engine, migrate, session_factory
from storage.models import Account


class CountingSessions:
    """The session factory, counting the sessions open at once."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.open = 0
        self.most = 0

    def __call__(self) -> CountingSessions.Session:
        return CountingSessions.Session(self)

    class Session:
        def __init__(self, owner: CountingSessions) -> None:
            self.owner = owner
            self.inner = owner.sessions()

        async def __aenter__(self) -> Any:
            self.owner.open += 1
            self.owner.most = max(self.owner.most, self.owner.open)
            return await self.inner.__aenter__()

        async def __aexit__(self, kind: type[BaseException] | None,
                            exc: BaseException | None, tb: TracebackType | None) -> None:
            try:
                await self.inner.__aexit__(kind, exc, tb)
            finally:
                self.owner.open -= 1


async def accounts(tmp_path: Path, n: int) -> AsyncIterator[tuple[SessionFactory, list[int]]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        await migrate(engine)
        db = session_factory(engine)
        async with db() as session:
            rows = [Account(owner_id=i, key_encrypted="x", key_hint="x", linked_by=i)
                    for i in range(n)]
            session.add_all(rows)
            await session.commit()
            ids = [a.id for a in rows if a.id is not None]
        yield db, ids
    finally:
        await engine.dispose()


async def test_many_new_accounts_learn_their_currency_a_few_writes_at_a_time(
        tmp_path: Path) -> None:
    async for db, ids in accounts(tmp_path, 200):
        counting = CountingSessions(db)
        buyer = Buyer(db=cast(SessionFactory, counting), keybox=KeyBox("k" * 32),
                      koala=cast(Any, None), clock=cast(Any, None), intents=cast(Any, None))
        # Each account's poll learns it, some twice (two answers naming it).
        await asyncio.gather(*(buyer.learn_currency(i, 643) for i in ids + ids[:20]))
        assert counting.most <= CURRENCY_WRITES
        assert counting.open == 0
        async with db() as session:
            stored = (await session.exec(select(Account.currency))).all()
        assert stored == [643] * len(ids)
        # Known now: no session at all.
        before = counting.most, counting.open
        await buyer.learn_currency(ids[0], 643)
        assert (counting.most, counting.open) == before
