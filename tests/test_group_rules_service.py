"""GroupRulesService on both backends: every rule refuses with its name, and reservations
made at the same moment cannot together go over a limit (the database serialises them,
the service holds no lock of its own)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.services.group_rules import GroupRules, GroupRulesService, Reservation, RuleRefusal
from storage.crypto import KeyBox
from storage.models import utcnow
from storage.repo import ActivationRepo
from tests.test_storage import Db, _account, activation, db, keybox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.asyncio

GROUP = -1001234567890
ALICE, BOB = 11, 12


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reservation dawdles between reading the totals and holding its room, so that
    without serialisation every one of them would read the same totals (on SQLite too,
    where the writes alone are serialised)."""
    for name in ("spending", "active_in_chat"):
        original = getattr(ActivationRepo, name)

        async def slow(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            found = await _original(*args, **kwargs)
            await asyncio.sleep(0.05)
            return found

        monkeypatch.setattr(ActivationRepo, name, slow)


async def _at_once(service: GroupRulesService, count: int, price: float,
                   member: int = ALICE) -> list[Reservation | RuleRefusal]:
    start = asyncio.Event()

    async def one() -> Reservation | RuleRefusal:
        await start.wait()
        return await service.reserve(GROUP, member, price, is_admin=False)

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks))


async def test_simultaneous_reservations_never_overrun_the_daily_limit(db: Db,  # noqa: F811
                                                                      slow_reads: None) -> None:
    service = GroupRulesService(db.sessions)
    await service.update(GROUP, daily_limit=30.0)
    results = await _at_once(service, 8, 10.0)
    granted = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, RuleRefusal)]
    assert len(granted) == 3
    assert {r.rule for r in refused} == {"daily_limit"}
    # Released room is free again; confirmed room stays taken (by the activation).
    await service.release(granted[0])
    again = await service.reserve(GROUP, ALICE, 10.0, is_admin=False)
    assert isinstance(again, Reservation)
    refusal = await service.reserve(GROUP, ALICE, 10.0, is_admin=False)
    assert isinstance(refusal, RuleRefusal)
    assert refusal.rule == "daily_limit"
    assert (refusal.limit, refusal.used) == (30.0, 30.0)
    # Another member has a limit of their own.
    assert isinstance(await service.reserve(GROUP, BOB, 30.0, is_admin=False), Reservation)


async def test_simultaneous_reservations_never_overrun_the_running_limit(
        db: Db, slow_reads: None) -> None:  # noqa: F811
    service = GroupRulesService(db.sessions)
    await service.update(GROUP, running_limit=2)
    results = await _at_once(service, 6, 1.0)
    assert sum(isinstance(r, Reservation) for r in results) == 2
    assert {r.rule for r in results if isinstance(r, RuleRefusal)} == {"running_limit"}


async def test_activations_count_once_confirmed(db: Db, keybox: KeyBox) -> None:  # noqa: F811
    service = GroupRulesService(db.sessions)
    account_id = await _account(db.sessions, keybox, owner=GROUP)
    await service.update(GROUP, daily_limit=25.0, running_limit=5)
    held = await service.reserve(GROUP, ALICE, 10.0, is_admin=False)
    assert isinstance(held, Reservation)
    async with db.sessions() as session:
        row = await ActivationRepo(session).add(activation(
            account_id, provider_id=1, chat_id=GROUP, buyer_id=ALICE, cost=10.0,
            bought_at=utcnow()))
    assert row.id is not None
    await service.confirm(held, row.id)
    # 10 spent (the activation; the confirmed reservation no longer holds anything).
    assert isinstance(await service.reserve(GROUP, ALICE, 15.0, is_admin=False), Reservation)
    refusal = await service.reserve(GROUP, ALICE, 0.5, is_admin=False)
    assert isinstance(refusal, RuleRefusal)
    assert refusal.used == 25.0
    # Yesterday's spending does not count today.
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert (await service.stats(GROUP, now=day.replace(year=day.year + 1))).members == ()


async def test_who_may_buy(db: Db) -> None:  # noqa: F811
    service = GroupRulesService(db.sessions)
    await service.update(GROUP, who_may_buy="admins")
    refusal = await service.reserve(GROUP, ALICE, 1.0, is_admin=False)
    assert refusal == RuleRefusal("who_may_buy", value="admins")
    assert isinstance(await service.reserve(GROUP, BOB, 1.0, is_admin=True), Reservation)
    await service.update(GROUP, who_may_buy="chosen")
    assert await service.toggle_member(GROUP, ALICE, "Alice") is True
    assert isinstance(await service.reserve(GROUP, ALICE, 1.0, is_admin=False), Reservation)
    assert isinstance(await service.reserve(GROUP, 99, 1.0, is_admin=False), RuleRefusal)
    assert (await service.rules(GROUP)).chosen == frozenset({ALICE})
    assert await service.toggle_member(GROUP, ALICE, "Alice") is False
    assert isinstance(await service.reserve(GROUP, ALICE, 1.0, is_admin=False), RuleRefusal)


async def test_rules_follow_a_group_that_becomes_a_supergroup(db: Db) -> None:  # noqa: F811
    service = GroupRulesService(db.sessions)
    old, new = -4000000001, -1009000000001
    await service.update(old, who_may_buy="chosen", daily_limit=70.0, codes_to="buyer")
    await service.toggle_member(old, ALICE, "Alice")
    held = await service.reserve(old, ALICE, 50.0, is_admin=False)
    assert isinstance(held, Reservation)
    await service.migrated(old, new)
    assert await service.rules(new) == GroupRules(
        who_may_buy="chosen", chosen=frozenset({ALICE}), daily_limit=70.0, codes_to="buyer")
    assert await service.rules(old) == GroupRules()
    # The purchase in flight still holds its room in the new chat.
    refusal = await service.reserve(new, ALICE, 30.0, is_admin=False)
    assert isinstance(refusal, RuleRefusal)
    assert refusal.used == 50.0
