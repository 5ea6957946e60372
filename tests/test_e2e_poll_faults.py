"""The poller under provider faults: a wrong NO_KEY, a rejected key, a long outage, and a
shutdown in the middle of a tick. Codes still come, money rules still run, nothing is
claimed that was not done, and nothing is logged as a failure that is not one."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.app import App
from bot.poll_accounts import MAX_BACKOFF
from bot.sandbox.provider import ProviderSandbox
from storage.repo import ActivationRepo
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, Person
from tests.helpers import BALANCE, buy, code_messages, is_code, set_key, stored, until, within
from tests.helpers_time import TimeTravel, ticks


def set_statuses(provider: ProviderSandbox, status: str) -> int:
    return sum(1 for action, params in provider.requests
               if action == "setStatus" and params.get("status") == status)


async def paused_for_the_key(app: App, account_id: int) -> None:
    def paused() -> bool:
        pause = app.poller.account_pause(account_id)
        return pause is not None and pause.retry_in > 60
    await until(paused, "the account's polls paused for its rejected key")


# --- item 5: one spurious NO_KEY; money rules during a real pause ------------------------

async def test_one_spurious_no_key_does_not_pause_the_account(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    a = await buy(app, alice)
    balance_checks = provider.calls("getBalance")
    provider.inject_error("NO_KEY", count=1, actions={"getActiveActivations"})
    provider.deliver_sms(a.provider_id, "1212")

    await chat.wait_for(is_code("1212"), timeout=within(app))  # was: 10 minutes later
    assert ("getActiveActivations", {}) in provider.requests
    assert provider.calls("getBalance") == balance_checks + 1  # the second opinion
    assert app.poller.account_pause(a.account_id) is None
    await ticks(app, 3)
    assert len(code_messages(chat, "1212")) == 1


async def test_an_activation_ending_during_a_key_pause_is_still_cancelled_in_time(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    clock = TimeTravel(app, provider)
    a = await buy(app, alice)
    # The provider rejects the key for its list and its balance: a real, confirmed pause.
    provider.inject_error("NO_KEY", actions={"getActiveActivations", "getBalance"})
    await paused_for_the_key(app, a.account_id)

    clock.advance(1200 - 4)  # inside the bot's end margin, before the provider's end
    notice = await chat.wait_for("no code came in time", timeout=within(app) + 2)
    assert "I cancelled it" in notice.text  # true: the bot's cancel was accepted
    assert set_statuses(provider, "8") >= 1
    assert provider.activation(a.provider_id).status == "cancelled"
    assert not provider.activation(a.provider_id).expired  # cancelled before the end
    assert provider.balance(DEMO_KEY) == BALANCE
    assert (await stored(app, a)).state == ActivationState.EXPIRED
    assert app.poller.account_pause(a.account_id) is not None  # polls are still paused


async def test_an_activation_the_provider_ended_is_not_reported_as_cancelled_by_the_bot(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    clock = TimeTravel(app, provider)
    a = await buy(app, alice)
    # The key is rejected everywhere for a while: no cancel gets through.
    provider.inject_error("NO_KEY", actions={"getActiveActivations", "getBalance"})
    provider.inject_error("BAD_KEY", actions={"setStatus"})
    await paused_for_the_key(app, a.account_id)

    clock.advance(1200 + 30)  # past the end: the provider ends it and refunds it itself
    await until(lambda: set_statuses(provider, "8") >= 1, "a cancel tried (and rejected)")
    assert provider.activation(a.provider_id).expired
    provider.clear_errors()

    notice = await chat.wait_for("no code came in time", timeout=15)
    assert "KoalaSMS had already ended it" in notice.text
    assert not [m.text for m in chat.bot_messages if "I cancelled" in m.text]
    assert provider.balance(DEMO_KEY) == BALANCE
    assert (await stored(app, a)).state == ActivationState.EXPIRED


# --- item 11: polling backoff is capped -----------------------------------------------

class FakeMonotonic:
    """The poller's pause clock, moved by the test only: no wall-clock timing."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def test_after_a_long_outage_polls_resume_within_the_cap(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    a = await buy(app, alice)
    fake = FakeMonotonic()
    app.poller.monotonic = fake
    provider.inject_faults("http500", actions={"getActiveActivations", "getStatusV2"})

    for failures in range(1, 9):  # eight failed polls, each as soon as its pause is over
        fake.advance(3600)

        def failed(n: int = failures) -> bool:
            pause = app.poller.account_pause(a.account_id)
            return pause is not None and pause.failures >= n
        await until(failed, f"{failures} failed polls")
    pause = app.poller.account_pause(a.account_id)
    assert pause is not None
    assert pause.retry_in <= MAX_BACKOFF <= 10.0  # was 60 s (and a code took 108 s)

    provider.clear_faults()
    provider.deliver_sms(a.provider_id, "7788")
    polls = provider.calls("getActiveActivations")
    await ticks(app, 3)
    assert provider.calls("getActiveActivations") == polls  # the pause holds on its clock
    assert not code_messages(chat, "7788")

    fake.advance(pause.retry_in)  # the next try is due at most the cap after the failure
    await chat.wait_for(is_code("7788"), timeout=within(app) + 2)
    assert app.poller.account_pause(a.account_id) is None


# --- item 14: shutdown in the middle of a tick ---------------------------------------

def cancelled_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if (r.exc_info and r.exc_info[0] is asyncio.CancelledError)
            or "CancelledError" in r.getMessage()]


@pytest.mark.parametrize("tick_finishes_in_grace", [True, False])
async def test_shutdown_during_a_tick_logs_no_cancelled_error(
        app: App, alice: Person, provider: ProviderSandbox, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, tick_finishes_in_grace: bool) -> None:
    await set_key(app, alice)
    await buy(app, alice)
    entered, release = asyncio.Event(), asyncio.Event()
    # The read the tick's card refresh makes (it read `active()` before it read plain rows).
    original = ActivationRepo.card_clocks

    async def slow_active(self: ActivationRepo) -> list[object]:
        entered.set()
        await release.wait()  # the tick is in flight, inside its database read
        return await original(self)  # type: ignore[return-value]

    monkeypatch.setattr(ActivationRepo, "card_clocks", slow_active)
    caplog.set_level(logging.DEBUG)
    await asyncio.wait_for(entered.wait(), 5)

    stopping = asyncio.create_task(app.poller.stop(grace=1.0))
    if tick_finishes_in_grace:
        await asyncio.sleep(0.1)
        release.set()
    await asyncio.wait_for(stopping, 10)
    release.set()
    await asyncio.sleep(0.1)
    assert app.poller.job is None
    assert not cancelled_tracebacks(caplog)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
