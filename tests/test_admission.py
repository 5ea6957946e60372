"""Updates admitted a few at a time, first come first served (bot/admission.py): a person
whose key hangs at the provider holds back no one else, through the real bot; and the gate
itself admits in arrival order and never queues an update coming back from a wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.admission import Admission
from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import Person, make_settings
from tests.helpers import set_key, until

HANGING_KEY = "hangKEY000123456789abcdefABCDEF"


@pytest.fixture
async def one_at_a_time(tmp_path: Path, provider: ProviderSandbox,
                        tg: TelegramEmulator) -> AsyncIterator[App]:
    """One update at a time; the client and the screen wait as long as the test does."""
    application = await build_app(
        make_settings(tmp_path, provider, tg, UPDATE_CONCURRENCY=1),
        koala_timeout=600.0, koala_backoff=0.01, reconcile_delay=0.05, screen_budget=600.0)
    try:
        async with running(application, polling_timeout=1):
            yield application
    finally:
        provider.release()
        await close_app(application)


async def test_a_hanging_key_holds_back_no_one(
        one_at_a_time: App, alice: Person, tg: TelegramEmulator,
        provider: ProviderSandbox) -> None:
    app = one_at_a_time
    provider.add_account(HANGING_KEY, balance=50.0)
    await set_key(app, alice, HANGING_KEY)
    user = tg.add_user(first_name="Bob", language_code="en")
    bob = Person(user, tg.private_chat(user))
    await set_key(app, bob)
    provider.hold_key(HANGING_KEY)
    try:
        await alice.chat.send("/balance")
        await until(lambda: provider.holding >= 1, "Alice's balance read held")
        # The only place is Alice's while she waits on the provider; she gives it up.
        await bob.chat.send("/balance")
        await bob.chat.wait_for("Balance: 100.00")
        await bob.chat.send("/start")
        await bob.chat.wait_for("KoalaSMS")
        assert provider.holding >= 1  # Alice's request is still out
        assert not any("Balance" in m.text for m in alice.chat.bot_messages)
        provider.release()
        await alice.chat.wait_for("Balance: 50.00")
    finally:
        provider.release()


async def test_updates_are_admitted_in_arrival_order() -> None:
    gate = Admission(limit=1)
    order: list[int] = []
    first_in, release_first = asyncio.Event(), asyncio.Event()

    async def update(n: int) -> None:
        async with gate.admitted():
            order.append(n)
            if n == 0:
                first_in.set()
                await release_first.wait()

    first = asyncio.create_task(update(0))
    await first_in.wait()
    others = [asyncio.create_task(update(n)) for n in range(1, 6)]
    await asyncio.sleep(0)  # they all queue behind the first
    assert gate.running == 1
    release_first.set()
    await asyncio.gather(first, *others)
    assert order == [0, 1, 2, 3, 4, 5]
    assert gate.running == 0


async def test_an_update_back_from_a_wait_does_not_queue() -> None:
    gate = Admission(limit=1)
    away, back, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    steps: list[str] = []

    async def slow_one() -> None:
        async with gate.admitted():
            async with gate.away():  # e.g. a provider call
                away.set()
                await back.wait()
            steps.append("slow one back")  # while the other holds the only place

    async def other() -> None:
        async with gate.admitted():
            steps.append("other admitted")
            await done.wait()

    slow = asyncio.create_task(slow_one())
    await away.wait()
    assert gate.running == 0  # away: its place is free
    second = asyncio.create_task(other())
    await until(lambda: steps == ["other admitted"], "the other update admitted")
    back.set()
    await slow  # did not wait for the other update to end
    assert steps == ["other admitted", "slow one back"]
    done.set()
    await second
    assert gate.running == 0


async def test_a_task_started_by_an_update_does_not_give_its_place_away() -> None:
    gate = Admission(limit=1)

    async def background() -> None:
        async with gate.away():  # not the update's own task: nothing to give up
            assert gate.running == 1

    async with gate.admitted():
        await asyncio.create_task(background())
        assert gate.running == 1
    assert gate.running == 0


async def test_no_limit_admits_everyone() -> None:
    gate = Admission(limit=0)
    async with gate.admitted(), gate.admitted(), gate.away():
        assert gate.running == 0
