"""Keys whose requests hang delay only themselves, through the real bot and emulators.

Eight keys (as many as the poller's shared request slots) start hanging while they are
still in good standing: before the fix their held requests kept every shared slot for
their whole budget, and the healthy users' polls waited behind them (the "eight hanging
keys" row of bench.delivery). The check is by order, not by time: Alice's code must
arrive while every hanging request is still held at the provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.poller import MAX_PARALLEL_REQUESTS
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import Person
from tests.helpers import buy, is_code, patient_bot, set_key, until, within


@pytest.fixture
async def patient(tmp_path: Path, provider: ProviderSandbox,
                  tg: TelegramEmulator) -> AsyncIterator[App]:
    """The bot as the app fixture builds it, but with a client that waits as long as the
    test does: the hanging requests stay out until the provider lets them go."""
    async with patient_bot(tmp_path, provider, tg, hold_requests=True) as application:
        yield application


def hanging_key(n: int) -> str:
    return f"hangKEY{n:02d}0123456789abcdefABCD"




async def test_a_healthy_code_arrives_while_eight_keys_hang(
        patient: App, alice: Person, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    app = patient
    keys = [hanging_key(n) for n in range(MAX_PARALLEL_REQUESTS)]
    hanging, people = [], []
    for n, key in enumerate(keys):
        provider.add_account(key, balance=50.0)
        user = tg.add_user(first_name=f"Hanging{n}", language_code="en")
        other = Person(user, tg.private_chat(user))
        await set_key(app, other, key)
        people.append(other)
        hanging.append(await buy(app, other))
    await set_key(app, alice)
    a = await buy(app, alice)
    poller = app.poller
    try:
        for key in keys:
            provider.hold_key(key)
        await until(lambda: provider.holding >= len(keys), "every hanging key's request held",
                    within(app))
        provider.deliver_sms(a.provider_id, "5151")
        await alice.chat.wait_for(is_code("5151"), timeout=within(app))
        # It came while every hanging key's request was still out (only the provider's
        # release() ends them: the client and the poller wait 600 s).
        assert provider.holding >= len(keys)
        for h in hanging:
            assert not poller._account_tasks[h.account_id].done()
        # Their own codes are not lost: they come once their keys answer again.
        for n, h in enumerate(hanging):
            provider.deliver_sms(h.provider_id, f"60{n:02d}")
        provider.release()
        for n, person in enumerate(people):
            await person.chat.wait_for(is_code(f"60{n:02d}"), timeout=within(app))
    finally:
        provider.release()
