"""The card refresh reads plain rows (ActivationRepo.card_clocks) instead of ORM entities;
the rows it finds due are the ones the entity check finds due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.card_refresh import MINUTES_BEFORE_END, _clock_due, due
from storage.crypto import KeyBox
from storage.db import create_engine, migrate, session_factory
from storage.models import Activation, User
from storage.repo import AccountRepo, ActivationRepo
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, SECRET

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def reference_due(a: Activation, now: datetime) -> bool:
    """The rule as first written: any threshold in (last render, now]."""
    marks = [a.ends_at - timedelta(minutes=m) for m in MINUTES_BEFORE_END] + [a.ends_at]
    if a.state == ActivationState.WAITING:
        marks.append(a.cancel_at)
    last = a.card_refreshed_at or a.bought_at
    return any(last < mark <= now for mark in marks)


async def test_rows_due_are_the_entities_due(tmp_path: Path) -> None:
    """On a database of its own: no poller moves these activations meanwhile."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cards.db'}")
    try:
        await migrate(engine)
        rows, entities, made = await _seed(session_factory(engine))
    finally:
        await engine.dispose()
    assert {r.id for r in rows} == {a.id for a in made if a.card_message_id is not None}
    checked = 0
    for minutes in range(0, 45, 1):
        now = START + timedelta(minutes=minutes, seconds=13)
        from_rows = {r.id for r in rows if _clock_due(r, now)}
        assert from_rows == {a.id for a in due(entities, now)}
        assert from_rows == {a.id for a in entities
                             if a.card_message_id is not None and reference_due(a, now)}
        checked += len(from_rows)
    assert checked > 0  # the grid did cross thresholds


async def _seed(db: Any) -> tuple[Any, list[Activation], list[Activation]]:
    owner = 42
    async with db() as session:
        session.add(User(id=owner))
        await session.commit()
        account = await AccountRepo(session, KeyBox(SECRET)).set_key(
            owner, DEMO_KEY, linked_by=owner)
        assert account.id is not None
        repo = ActivationRepo(session)
        made: list[Activation] = []
        for i in range(40):
            bought = START + timedelta(seconds=37 * i)
            made.append(await repo.add(Activation(
                provider_id=9000 + i, account_id=account.id, chat_id=owner,
                buyer_id=owner, service="tg", country=0, phone=f"7911{i:07d}",
                cost=10.0, currency=643,
                state=ActivationState.WAITING if i % 3 else ActivationState.RECEIVED,
                bought_at=bought, cancel_at=bought + timedelta(minutes=2),
                ends_at=bought + timedelta(minutes=20),
                card_message_id=None if i % 7 == 0 else 100 + i,
                card_refreshed_at=None if i % 2 else bought + timedelta(minutes=i % 19),
            )))
        rows = await ActivationRepo(session).card_clocks()
        entities = await ActivationRepo(session).active()
    return rows, entities, made
