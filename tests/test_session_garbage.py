"""Every update opens a couple of database sessions. A finished session must be freed as
soon as it is dropped, not wait for the cyclic garbage collector: with the young
generation collected every 20,000 allocations (bot/gctune.py), sessions tied in reference
cycles piled up during a burst of 10,000 people and the heap stayed ~14 MiB larger for
good (bench/RESULTS.md, branch mem2)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import select

from storage.db import create_engine, migrate, session_factory
from storage.models import User


@contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """What the cyclic collector frees inside the block (kept in the list, to look at)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[object] = []
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_sessions_that_read_and_write_leave_nothing_for_the_cyclic_collector(
        tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        await migrate(engine)
        db = session_factory(engine)
        async with db() as session:  # the first session of a process sets things up
            await session.exec(select(User))
        with cyclic_garbage() as garbage:
            for user_id in range(20):
                async with db() as session:  # a write, committed by its owner
                    session.add(User(id=user_id, language="en"))
                    await session.commit()
                async with db() as session:  # a read, its transaction ended at once
                    found = (await session.exec(select(User).where(User.id == user_id))).one()
                    assert found.language == "en"
                    assert not session.in_transaction()
        sessions = [o for o in garbage if type(o).__name__.endswith("Session")]
        assert sessions == []
    finally:
        await engine.dispose()
