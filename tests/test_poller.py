"""The poller's own rules: how it reads the provider's list, how it paces itself, and that
one slow or failing part never holds up the rest."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest

from bot.activations import ActivationManager
from bot.app import App
from bot.koala import SmsStatus, StatusResult, TransientError
from bot.koala.models import ActiveActivation
from bot.observations import Observation, needs_work, new_codes, observation_from_row
from bot.poller import Poller
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from storage.models import Activation, utcnow
from tests.conftest import Person
from tests.helpers import BOB_KEY, buy, code_messages, is_code, set_key, within
from tests.helpers_time import ticks


def row(*codes: str) -> ActiveActivation:
    return ActiveActivation(activation_id=1, phone="79000000000", status="1", service="tg",
                            country_code="7", codes=codes, text=None, cost=22.0,
                            currency=643, can_get_another_sms=True)


def test_a_listed_code_is_a_status_ok_and_no_code_is_waiting() -> None:
    seen = observation_from_row(row("111", "222"))
    assert seen.status is not None
    assert seen.status.status == SmsStatus.OK
    assert seen.status.code == "222"
    assert seen.codes == ("111", "222")
    waiting = observation_from_row(row())
    assert waiting.status is not None
    assert waiting.status.status == SmsStatus.WAIT_CODE


def test_only_codes_we_have_not_recorded_are_new() -> None:
    assert new_codes([], ("111",)) == ["111"]
    assert new_codes(["111"], ("111",)) == []  # waiting for another: the old code again
    assert new_codes(["111"], ("111", "222")) == ["222"]
    assert new_codes([], ("111", "222")) == ["111", "222"]  # both came between two polls
    assert new_codes(["111", "222"], ("111", "222")) == []
    # The same code twice in a row is a repeat of the list, not a new SMS.
    assert new_codes(["111", "222"], ("111", "222", "222")) == ["222"]
    # A list that does not start with what we know: only its last code is trusted.
    assert new_codes(["111", "222"], ("333",)) == ["333"]


def test_a_quiet_answer_needs_no_work_and_a_due_rule_does() -> None:
    now = utcnow()
    margin = timedelta(seconds=10)
    a = Activation(provider_id=1, account_id=1, chat_id=1, buyer_id=1, service="tg",
                   phone="1", cancel_at=now + timedelta(minutes=1),
                   ends_at=now + timedelta(minutes=20), can_get_another_sms=True)
    waiting = Observation(StatusResult(SmsStatus.WAIT_CODE), can_get_another_sms=True)
    assert not needs_work(a, waiting, [], now, margin)
    assert not needs_work(a, Observation(None), [], now, margin)  # no answer this tick
    old = Observation(StatusResult(SmsStatus.OK, "111"), codes=("111",))
    assert not needs_work(a, old, ["111"], now, margin)
    assert needs_work(a, Observation(StatusResult(SmsStatus.OK, "222"), codes=("111", "222")),
                      ["111"], now, margin)
    assert not needs_work(a, Observation(StatusResult(SmsStatus.WAIT_RETRY, "111")), ["111"],
                          now, margin)
    assert needs_work(a, Observation(StatusResult(SmsStatus.CANCEL)), [], now, margin)
    assert needs_work(a, Observation(None, unknown=True), [], now, margin)
    assert needs_work(a, Observation(StatusResult(SmsStatus.WAIT_RESEND)), [], now, margin)
    assert needs_work(a, Observation(StatusResult(SmsStatus.WAIT_CODE),
                                     can_get_another_sms=False), [], now, margin)
    # Money rules: the end is near, or a cancel asked for too early is now allowed.
    assert needs_work(a, waiting, [], now + timedelta(minutes=19, seconds=55), margin)
    a.cancel_requested = True
    assert not needs_work(a, waiting, [], now, margin)
    assert needs_work(a, waiting, [], now + timedelta(minutes=1), margin)


async def test_a_tick_never_raises() -> None:
    class Broken:
        def db(self) -> Any:
            raise RuntimeError("database is gone")

        async def deliver_pending(self) -> int:
            raise RuntimeError("database is gone")

    poller = Poller(manager=cast(ActivationManager, Broken()), interval=0.3, spread=0)
    await poller.tick()
    await poller.tick()
    assert poller.ticks == 2
    await poller.stop()


async def test_the_scheduler_job_is_one_coalesced_interval(app: App) -> None:
    await ticks(app, 1)  # the dispatcher's start-up hook has started the scheduler
    job = app.poller.job
    assert job is not None
    assert job.max_instances == 1
    assert job.coalesce is True
    assert job.misfire_grace_time <= 5
    assert job.trigger.interval == timedelta(seconds=app.settings.POLL_INTERVAL)
    await app.poller.stop()
    await app.poller.stop()  # the shutdown hook and close_app both stop it
    assert app.poller.job is None


async def test_one_request_per_account_per_tick(app: App, alice: Person,
                                                provider: ProviderSandbox) -> None:
    await set_key(app, alice)
    for _ in range(3):
        await buy(app, alice)
    await app.poller.stop()
    before_list, before_status = (provider.calls("getActiveActivations"),
                                  provider.calls("getStatusV2"))
    poller = Poller(manager=app.manager, interval=0.3, spread=0)
    await poller.tick()
    await asyncio.sleep(0.2)
    assert provider.calls("getActiveActivations") == before_list + 1
    assert provider.calls("getStatusV2") == before_status  # all three were on the list
    await poller.stop()


async def test_a_failing_account_backs_off_and_recovers(
        app: App, alice: Person, provider: ProviderSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await set_key(app, alice)
    a = await buy(app, alice)
    await app.poller.stop()
    failing = True
    asked = 0
    original = app.koala.get_active_activations

    async def flaky(key: str) -> list[ActiveActivation]:
        nonlocal asked
        asked += 1
        if failing:
            raise TransientError("getActiveActivations: provider answered HTTP 502")
        return await original(key)

    monkeypatch.setattr(app.koala, "get_active_activations", flaky)
    poller = Poller(manager=app.manager, interval=0.05, spread=0)
    # Pauses are measured on a fake clock moved one interval a tick: a loaded machine
    # that makes the ticks slower must not change how many of them are asked.
    now = 0.0
    poller.monotonic = lambda: now

    async def tick() -> None:
        nonlocal now
        await poller.tick()
        await asyncio.gather(*poller._running_tasks())
        now += 0.05

    for _ in range(12):  # 0.6 s of ticks: 0.1 + 0.2 + 0.4 s of pauses fit in
        await tick()
    assert 2 <= asked <= 4

    failing = False
    asked_when_fixed = asked
    for _ in range(40):  # the pause runs out, and the account answers
        await tick()
        if asked > asked_when_fixed:
            break
    asked_after_recovery = asked
    for _ in range(3):
        await tick()
    assert asked == asked_after_recovery + 3  # every tick again once it answers

    provider.deliver_sms(a.provider_id, "6060")
    for _ in range(3):
        await tick()
        if code_messages(alice.chat, "6060"):
            break
        await asyncio.sleep(0.05)
    await alice.chat.wait_for(is_code("6060"), timeout=2)
    await poller.stop()


async def test_a_slow_chat_does_not_hold_up_another_chat(
        app: App, alice: Person, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    provider.add_account(BOB_KEY, balance=50.0)
    bob_user = tg.add_user(first_name="Bob", language_code="en")
    bob = Person(bob_user, tg.private_chat(bob_user))
    await set_key(app, alice)
    await set_key(app, bob, BOB_KEY)
    a = await buy(app, alice)
    b = await buy(app, bob)

    tg.slow(alice.chat, 3.0)  # every message to Alice takes 3 s
    provider.deliver_sms(a.provider_id, "1010")
    await asyncio.sleep(0.4)  # Alice's code is now stuck in her slow chat
    provider.deliver_sms(b.provider_id, "2020")
    await bob.chat.wait_for(is_code("2020"), timeout=within(app))
    assert not code_messages(alice.chat, "1010")  # still on its way: not lost
    tg.slow(alice.chat, 0.0)


async def test_codes_stored_while_the_chat_was_unreachable_are_sent_later(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    """A code whose message failed stays undelivered in the database and is re-sent by
    the next tick, once: pending codes are retried every tick."""
    await set_key(app, alice)
    a = await buy(app, alice)
    app.manager.notifier.unreachable.add(alice.chat.id)  # as after a 403
    provider.deliver_sms(a.provider_id, "3030")
    await ticks(app, 3)
    assert not code_messages(alice.chat, "3030")

    app.manager.notifier.reachable_again(alice.chat.id)  # she wrote to the bot again
    await alice.chat.wait_for(is_code("3030"), timeout=within(app))
    await ticks(app, 3)
    assert len(code_messages(alice.chat, "3030")) == 1


def test_the_backoff_is_capped_and_never_overflows() -> None:
    from bot.poll_accounts import MAX_BACKOFF

    poller = Poller(manager=cast(ActivationManager, object()), interval=2.0, spread=0)
    delays = []
    for _ in range(1100):  # a provider down for hours: 2 ** 1100 would overflow a float
        poller._failed(1)
        pause = poller.account_pause(1)
        assert pause is not None
        delays.append(pause.retry_in)
    assert delays[:3] == pytest.approx([4.0, 8.0, MAX_BACKOFF], abs=0.1)
    assert max(delays) <= MAX_BACKOFF
    # A round that hung until its time-out already waited: the provider is asked again
    # as soon as the pause, counted from the round's start, is over.
    poller._failed(1, since=poller.monotonic() - 30.0)
    pause = poller.account_pause(1)
    assert pause is not None
    assert pause.retry_in == 0.0
