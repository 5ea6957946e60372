"""A person buys a number and the bot brings the codes into the chat by itself.

The real bot polls the Telegram emulator and the provider sandbox; time moves with
TimeTravel (the bot's clock and the provider's together), never by sleeping.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from storage.repo import AccountRepo
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, Person
from tests.helpers import (
    BALANCE,
    BOB_KEY,
    PRICE,
    buy,
    code_messages,
    code_then_card,
    is_code,
    set_key,
    stored,
    within,
)
from tests.helpers_time import TimeTravel, ticks


@pytest.fixture
async def alice_buying(app: App, alice: Person) -> Person:
    """Alice has a key on file (what /key stores)."""
    await set_key(app, alice)
    return alice


async def test_code_arrives_as_reply_to_card_with_copy_button(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    a = await buy(app, alice_buying)
    card = chat.message(a.card_message_id or 0)
    assert card is not None

    provider.deliver_sms(a.provider_id, "48213")
    msg = await code_then_card(app, chat, "48213", timeout=within(app))

    assert msg.reply_to == card.message_id
    button = msg.button("Copy code")
    assert button["copy_text"] == {"text": "48213"}
    assert "Code received" in card.text
    assert any("Another code" in b for row in card.buttons for b in row)
    assert any("Complete" in b for row in card.buttons for b in row)
    await ticks(app, 3)
    assert len(code_messages(chat)) == 1


async def test_another_code_then_complete(app: App, alice_buying: Person,
                                          provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    a = await buy(app, alice_buying)
    provider.deliver_sms(a.provider_id, "1111")
    await code_then_card(app, chat, "1111", timeout=within(app))

    await chat.press("Another code")
    await chat.wait_for("Waiting for another code")
    # The provider's list still shows the old code while it waits: not a new code.
    await ticks(app, 3)
    assert len(code_messages(chat)) == 1

    provider.deliver_sms(a.provider_id, "2222")
    await code_then_card(app, chat, "2222", timeout=within(app))
    await ticks(app, 3)
    assert [m.text.split("Code: ")[1][:4] for m in code_messages(chat)] == ["1111", "2222"]

    await chat.press("Complete")
    await chat.wait_for("Completed")
    assert provider.activation(a.provider_id).status == "completed"
    assert (await stored(app, a)).state == ActivationState.COMPLETED


async def test_early_cancel_is_done_by_the_bot_when_allowed(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    a = await buy(app, alice_buying)
    assert provider.balance(DEMO_KEY) == BALANCE - PRICE

    await chat.press("Cancel")
    await chat.wait_for("I will cancel it in")
    await ticks(app, 2)
    assert provider.activation(a.provider_id).status == "wait_code"

    clock.advance(121)
    await chat.wait_for("cancelled as you asked", timeout=within(app))
    card = chat.message(a.card_message_id or 0)
    assert card is not None
    assert "refunded" in card.text
    assert provider.balance(DEMO_KEY) == BALANCE
    assert (await stored(app, a)).state == ActivationState.CANCELLED


async def test_no_code_by_the_end_is_cancelled_and_refunded_once(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    a = await buy(app, alice_buying)

    clock.advance(1200 - 4)  # inside the bot's end margin, before the provider's end
    await chat.wait_for("no code came in time", timeout=within(app))
    await ticks(app, 3)
    assert sum("no code came in time" in m.text for m in chat.bot_messages) == 1
    assert provider.activation(a.provider_id).status == "cancelled"
    assert not provider.activation(a.provider_id).expired  # the bot cancelled it itself
    assert provider.balance(DEMO_KEY) == BALANCE
    assert (await stored(app, a)).state == ActivationState.EXPIRED


async def test_long_past_the_end_is_settled_from_the_provider(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    """The bot missed the end (it was down): the provider already ended and refunded it."""
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    a = await buy(app, alice_buying)

    clock.advance(3600)
    await chat.wait_for("no code came in time", timeout=within(app))
    await ticks(app, 3)
    assert sum("no code came in time" in m.text for m in chat.bot_messages) == 1
    assert provider.balance(DEMO_KEY) == BALANCE
    assert (await stored(app, a)).state == ActivationState.EXPIRED


async def test_code_then_end_completes(app: App, alice_buying: Person,
                                       provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    a = await buy(app, alice_buying)
    provider.deliver_sms(a.provider_id, "777000")
    await chat.wait_for(is_code("777000"), timeout=within(app))

    clock.advance(1200 - 4)
    await chat.wait_for("Completed", timeout=within(app))
    assert provider.activation(a.provider_id).status == "completed"
    assert provider.balance(DEMO_KEY) == BALANCE - PRICE
    assert (await stored(app, a)).state == ActivationState.COMPLETED


async def test_faults_on_every_second_answer_lose_nothing(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    first = await buy(app, alice_buying)
    second = await buy(app, alice_buying)
    provider.inject_faults("http500", every=2)

    provider.deliver_sms(first.provider_id, "5150")
    await chat.wait_for(is_code("5150"), timeout=within(app) + 2)
    clock.advance(1200 - 4)
    await chat.wait_for("no code came in time", timeout=within(app) + 2)
    await chat.wait_for("Completed", timeout=within(app) + 2)
    await ticks(app, 3)

    assert len(code_messages(chat)) == 1
    assert sum("no code came in time" in m.text for m in chat.bot_messages) == 1
    assert provider.fault_log  # the faults really happened
    assert provider.balance(DEMO_KEY) == BALANCE - PRICE  # the one without a code refunded
    assert (await stored(app, first)).state == ActivationState.COMPLETED
    assert (await stored(app, second)).state == ActivationState.EXPIRED


async def test_lost_cancel_answer_is_reconciled(app: App, alice_buying: Person,
                                                provider: ProviderSandbox) -> None:
    """The provider cancelled but its answer was lost: the bot finds out and says so once."""
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    a = await buy(app, alice_buying)
    provider.inject_faults("lost_answer", count=1, actions={"setStatus"})

    clock.advance(1200 - 4)
    await chat.wait_for("no code came in time", timeout=within(app) + 2)
    await ticks(app, 3)
    assert sum("no code came in time" in m.text for m in chat.bot_messages) == 1
    assert provider.balance(DEMO_KEY) == BALANCE
    assert (await stored(app, a)).state == ActivationState.EXPIRED


async def test_provider_without_active_list_or_status_v2(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    provider.disable_action("getActiveActivations")
    provider.disable_action("getStatusV2")
    chat = alice_buying.chat
    a = await buy(app, alice_buying)

    provider.deliver_sms(a.provider_id, "9001")
    await code_then_card(app, chat, "9001", timeout=within(app) + 1)
    await chat.press("Another code")
    await chat.wait_for("Waiting for another code")
    await ticks(app, 3)  # getStatus answers STATUS_WAIT_RETRY:9001 meanwhile
    assert len(code_messages(chat)) == 1

    provider.deliver_sms(a.provider_id, "9002")
    await code_then_card(app, chat, "9002", timeout=within(app))
    await ticks(app, 2)
    assert len(code_messages(chat)) == 2
    assert provider.calls("getStatus") > 0


async def test_flood_control_delays_but_delivers(app: App, alice_buying: Person,
                                                 provider: ProviderSandbox,
                                                 tg: TelegramEmulator) -> None:
    chat = alice_buying.chat
    a = await buy(app, alice_buying)
    tg.flood(chat, retry_after=1, count=2)

    provider.deliver_sms(a.provider_id, "31337")
    await chat.wait_for(is_code("31337"), timeout=within(app) + 3)
    await ticks(app, 2)
    assert len(code_messages(chat)) == 1


async def test_blocked_chat_still_gets_its_money_back(app: App, alice_buying: Person,
                                                      provider: ProviderSandbox) -> None:
    chat = alice_buying.chat
    clock = TimeTravel(app, provider)
    a = await buy(app, alice_buying)
    chat.block()

    clock.advance(1200 - 4)
    for _ in range(100):
        if (await stored(app, a)).state == ActivationState.EXPIRED:
            break
        await ticks(app, 1)
    assert (await stored(app, a)).state == ActivationState.EXPIRED
    assert provider.activation(a.provider_id).status == "cancelled"
    assert provider.balance(DEMO_KEY) == BALANCE




async def test_a_hanging_account_does_not_delay_another(
        app: App, alice_buying: Person, provider: ProviderSandbox, tg: TelegramEmulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    provider.add_account(BOB_KEY, balance=50.0)
    bob_user = tg.add_user(first_name="Bob", language_code="en")
    bob = Person(bob_user, tg.private_chat(bob_user))
    await set_key(app, bob, BOB_KEY)
    await buy(app, alice_buying)
    b = await buy(app, bob)

    # Alice's provider requests stop answering (a proxy that holds them).
    release = asyncio.Event()
    original_list = app.koala.get_active_activations
    original_status = app.koala.get_status_v2

    async def hanging_list(key: str):  # type: ignore[no-untyped-def]
        if key == DEMO_KEY:
            await asyncio.wait_for(release.wait(), 60)
        return await original_list(key)

    async def hanging_status(key: str, activation_id: int):  # type: ignore[no-untyped-def]
        if key == DEMO_KEY:
            await asyncio.wait_for(release.wait(), 60)
        return await original_status(key, activation_id)

    monkeypatch.setattr(app.koala, "get_active_activations", hanging_list)
    monkeypatch.setattr(app.koala, "get_status_v2", hanging_status)
    try:
        await ticks(app, 2)
        provider.deliver_sms(b.provider_id, "4242")
        await bob.chat.wait_for(is_code("4242"), timeout=within(app))
    finally:
        release.set()


async def test_rejected_key_is_not_polled_every_tick(
        app: App, alice_buying: Person, provider: ProviderSandbox, tg: TelegramEmulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.koala import BadKey

    provider.add_account(BOB_KEY, balance=50.0)
    bob_user = tg.add_user(first_name="Bob", language_code="en")
    bob = Person(bob_user, tg.private_chat(bob_user))
    await set_key(app, bob, BOB_KEY)
    await buy(app, alice_buying)
    b = await buy(app, bob)

    asked: list[str] = []
    original_list = app.koala.get_active_activations

    async def rejecting(key: str):  # type: ignore[no-untyped-def]
        asked.append(key)
        if key == DEMO_KEY:
            raise BadKey("NO_KEY")
        return await original_list(key)

    original_balance = app.koala.get_balance

    async def rejecting_balance(key: str) -> float:
        if key == DEMO_KEY:  # the second opinion agrees: the key is really rejected
            raise BadKey("BAD_KEY")
        return await original_balance(key)

    monkeypatch.setattr(app.koala, "get_active_activations", rejecting)
    monkeypatch.setattr(app.koala, "get_balance", rejecting_balance)
    await ticks(app, 6)
    provider.deliver_sms(b.provider_id, "8080")
    await bob.chat.wait_for(is_code("8080"), timeout=within(app))
    assert asked.count(DEMO_KEY) <= 1
    assert asked.count(BOB_KEY) >= 5


async def test_activation_with_an_unreadable_key_is_closed_after_its_end(
        app: App, alice_buying: Person, provider: ProviderSandbox) -> None:
    """SECRET_KEY changed: the provider can't be asked, but nothing stays running for ever."""
    chat = alice_buying.chat
    travel = TimeTravel(app, provider)
    a = await buy(app, alice_buying)
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(alice_buying.user.id)
        assert account is not None
        account.key_encrypted = "gAAAAA-not-a-valid-token"
        session.add(account)
        await session.commit()
    app.poller._backoff.clear()  # don't wait for the 10-minute pause of a keyless account
    travel.advance(1200 + 11 * 60)
    await chat.wait_for("could not be read", timeout=within(app) + 2)
    assert (await stored(app, a)).state == ActivationState.EXPIRED
    assert provider.balance(DEMO_KEY) == BALANCE  # the provider refunded it on its own
