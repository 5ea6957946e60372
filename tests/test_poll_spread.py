"""A tick's rounds start spread over the interval, each account at its own fixed phase,
so a thousand answers never land on the event loop at once (bot/poller.py, SPREAD)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from bot.app import App
from bot.poll_accounts import RequestSlots
from bot.poller import SPREAD, Poller
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import Person
from tests.helpers import buy, is_code, set_key
from tests.test_poll_scale import person as new_person

KEYS = [f"spreadKEY{i:02d}0123456789abcdefAB" for i in range(6)]


def people(tg: TelegramEmulator, n: int) -> list[Person]:
    return [new_person(tg, f"P{i}") for i in range(n)]


def record_rounds(poller: Poller) -> list[tuple[int, float]]:
    """(account id, when its round began) for every round the poller starts."""
    started: list[tuple[int, float]] = []
    original = poller._poll_account

    async def recording(account_id: int, *args: Any) -> None:
        started.append((account_id, time.monotonic()))
        await original(account_id, *args)

    poller._poll_account = recording  # type: ignore[method-assign,assignment]
    return started


async def test_rounds_start_at_their_phase_in_order_and_codes_still_arrive(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    crowd = people(tg, len(KEYS))
    bought = []
    for person, key in zip(crowd, KEYS, strict=True):
        provider.add_account(key, balance=50.0)
        await set_key(app, person, key)
        bought.append(await buy(app, person))
    await app.poller.stop()
    poller = Poller(manager=app.manager, interval=2.0)  # the default spread
    rounds = record_rounds(poller)
    window = poller._spread_window()
    assert window == pytest.approx(2.0 * SPREAD)
    began = time.monotonic()
    await poller.tick()
    # The tick returns at once: its rounds are on their way, each at its phase.
    await asyncio.wait_for(asyncio.gather(*poller._running_tasks()), timeout=30)
    assert len(rounds) == len(KEYS)
    accounts = [account for account, _ in rounds]
    assert accounts == sorted(accounts, key=poller._phase)  # in the order of their phases
    for account, when in rounds:
        # Never before its place in the window (a sleep does not end early); without the
        # spread every round began within milliseconds of the tick.
        assert when - began >= poller._phase(account) * window - 0.05
    last_phase = max(poller._phase(a) for a in accounts)
    assert last_phase * window > 0.5  # the test means something: phases are far apart

    # Codes found by spread rounds reach their chats as before.
    provider.deliver_sms(bought[0].provider_id, "5151")
    provider.deliver_sms(bought[-1].provider_id, "6161")
    await poller.tick()
    await crowd[0].chat.wait_for(is_code("5151"), timeout=10)
    await crowd[-1].chat.wait_for(is_code("6161"), timeout=10)
    await poller.stop()


async def test_stopping_during_the_spread_cancels_rounds_not_yet_begun(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    crowd = people(tg, 3)
    for person, key in zip(crowd, KEYS[:3], strict=True):
        provider.add_account(key, balance=50.0)
        await set_key(app, person, key)
        await buy(app, person)
    await app.poller.stop()
    poller = Poller(manager=app.manager, interval=20.0)  # phases of many seconds
    rounds = record_rounds(poller)
    await poller.tick()
    accounts = list(poller._account_tasks)
    assert len(accounts) == 3
    assert all(poller._phase(a) * poller._spread_window() > 1.0 for a in accounts)
    waiting = poller._running_tasks()
    assert waiting  # rounds sleeping until their phase
    await poller.stop(grace=0.1)
    assert all(t.done() for t in waiting)
    # None began; none will (and no "coroutine was never awaited" warning: the suite
    # turns warnings into errors).
    await asyncio.sleep(0.2)
    assert rounds == []


def test_the_window_leaves_room_for_a_round_to_end_before_its_next_tick() -> None:
    poller = Poller(manager=object(), interval=2.0)  # type: ignore[arg-type]
    assert poller._spread_window() == pytest.approx(2.0 * SPREAD)
    poller._request_slots.per_request = 0.4  # a slow provider
    assert poller._spread_window() == pytest.approx(2.0 * 0.9 - 0.8)
    # Begun later in the tick (after the tick's reads): less room left.
    assert poller._spread_window(0.4) == pytest.approx(2.0 * 0.9 - 0.4 - 0.8)
    poller._request_slots.per_request = 5.0  # slower than the interval: no spread at all
    assert poller._spread_window() == 0.0
    assert Poller(manager=object(), interval=2.0,  # type: ignore[arg-type]
                  spread=0)._spread_window() == 0.0
    # Phases are fixed per account and fill [0, 1) evenly for consecutive ids.
    phases = sorted(Poller._phase(i) for i in range(1, 101))
    assert max(b - a for a, b in itertools.pairwise(phases)) < 0.03


async def test_a_request_cancelled_while_a_slot_is_freed_leaves_the_slots_sound() -> None:
    # At shutdown a waiting round is cancelled and, before it runs, a finished request
    # frees a slot: the wake-up drops the cancelled waiter, and the round's own clean-up
    # once tried to remove it again (ValueError in every cancelled round's log).
    slots = RequestSlots(1, 1)
    await slots.acquire()
    waiting = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    waiting.cancel()
    slots.release()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert slots.in_use == 0
    await asyncio.wait_for(slots.acquire(), timeout=5)
    assert slots.in_use == 1
