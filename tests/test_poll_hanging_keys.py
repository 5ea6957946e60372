"""A key that hangs delays only itself: once its round has failed, its requests go
through request slots of their own, so hanging keys cannot hold every slot the healthy
accounts need (the "eight hanging keys" stall of bench.delivery)."""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.poller import Poller
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import Person
from tests.helpers import BOB_KEY, buy, is_code, set_key


async def test_a_key_that_hung_no_longer_holds_the_slot_others_need(
        app: App, alice: Person, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    await set_key(app, alice)
    provider.add_account(BOB_KEY, balance=50.0)
    bob_user = tg.add_user(first_name="Bob", language_code="en")
    bob = Person(bob_user, tg.private_chat(bob_user))
    await set_key(app, bob, BOB_KEY)
    hanging = await buy(app, bob)  # bought first: its account is asked first each tick
    a = await buy(app, alice)
    await app.poller.stop()
    poller = Poller(manager=app.manager, interval=2.0, spread=0, request_limit=1)  # one slot only
    poller._request_budget = lambda: 0.5  # type: ignore[method-assign]
    provider.hold_key(BOB_KEY)
    try:
        await poller.tick()
        await asyncio.gather(*poller._running_tasks())
        assert poller.account_pause(hanging.account_id) is not None  # its round failed
        poller._backoff[hanging.account_id].next_try = 0.0  # asked again at once
        poller._request_budget = lambda: 120.0  # type: ignore[method-assign]
        provider.deliver_sms(a.provider_id, "7272")
        await poller.tick()
        await alice.chat.wait_for(is_code("7272"), timeout=30)
        # Alice's code came while Bob's request was still hanging in its own slot.
        assert not poller._account_tasks[hanging.account_id].done()
    finally:
        provider.release()
        await poller.stop()
