"""/active, and card buttons pressed when they no longer fit (or were never the presser's)."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from storage.repo import ActivationRepo
from tests.conftest import Person
from tests.helpers import buy, code_then_card, is_code, set_key, within
from tests.helpers_time import ticks


async def test_active_lists_running_activations_compactly(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    await chat.send("/active")
    await chat.wait_for("No running activations")

    first = await buy(app, alice)
    second = await buy(app, alice, service="wa", country=22)
    await chat.send("/active")
    listing = await chat.wait_for("Running activations: 2")
    await chat.wait_idle()
    assert "1. Telegram" in listing.text
    assert "2. WhatsApp" in listing.text
    assert listing.buttons == [[f"1. Telegram +{first.phone}"], [f"2. WhatsApp +{second.phone}"]]
    cards = [m for m in chat.bot_messages if m.text.startswith(("Telegram", "WhatsApp"))]
    assert len(cards) == 2  # the list posts no copies of the cards
    # Codes answer the one card there is.
    provider.deliver_sms(second.provider_id, "5151")
    code = await code_then_card(app, chat, "5151", timeout=within(app))
    assert code.reply_to == second.card_message_id


async def test_buttons_of_an_outdated_card(app: App, alice: Person,
                                           provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    a = await buy(app, alice)
    card_id = a.card_message_id or 0
    # Complete before any code: nothing to complete.
    result = await chat.press_data(f"a:done:{a.id}", card_id)
    assert result.text == "No code yet: nothing to complete."
    provider.deliver_sms(a.provider_id, "7007")
    await code_then_card(app, chat, "7007", timeout=within(app))
    # A Cancel from a screenshot-old card, after the code came: refused, card redrawn.
    result = await chat.press_data(f"a:cancel:{a.id}", card_id)
    assert result.show_alert
    assert "already came" in (result.text or "")
    await chat.press("Complete")
    await chat.wait_for("Completed")
    result = await chat.press_data(f"a:another:{a.id}", card_id)
    assert result.text == "This activation is already over."


async def test_another_code_not_offered_by_the_number(app: App, alice: Person,
                                                      provider: ProviderSandbox) -> None:
    provider.set_offer("wa", 22, 10.0, 5, another_sms=False)
    await set_key(app, alice)
    a = await buy(app, alice, service="wa", country=22)
    provider.deliver_sms(a.provider_id, "3131")
    await code_then_card(app, alice.chat, "3131", timeout=within(app))
    card = alice.chat.message(a.card_message_id or 0)
    assert card is not None
    assert card.buttons[-1] == ["✅ Complete"]  # no Another code button
    result = await alice.chat.press_data(f"a:another:{a.id}", card.message_id)
    assert result.text == "This number can't receive another code."


async def test_a_card_button_from_another_chat_acts_on_nothing(
        app: App, alice: Person, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    await set_key(app, alice)
    a = await buy(app, alice)
    mallory = tg.private_chat(tg.add_user(first_name="Mallory"))
    await mallory.send("/start")
    await mallory.wait_for("KoalaSMS")
    result = await mallory.press_data(f"a:cancel:{a.id}", mallory.last.message_id)
    assert result.text == "This button is not yours."
    assert provider.activation(a.provider_id).status == "wait_code"
    result = await mallory.press_data("a:cancel:999999", mallory.last.message_id)
    assert result.text == "This activation is not in my records."


async def test_an_unexpected_failure_still_gets_an_answer(
        app: App, alice: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(ActivationRepo, "active_in_chat", broken)
    await alice.chat.send("/active")
    reply = await alice.chat.wait_for("Something went wrong")
    assert "Nothing was charged" in reply.text


async def test_a_chat_that_unblocks_the_bot_gets_its_held_code(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    a = await buy(app, alice)
    chat.block()
    provider.deliver_sms(a.provider_id, "8080")
    await ticks(app, 3)  # the code is stored; sending it meets the block
    assert not [m for m in chat.bot_messages if "8080" in m.text]
    chat.unblock()
    await chat.send("/active")  # writing to the bot shows it is unblocked
    await chat.wait_for(is_code("8080"), timeout=within(app))
    await chat.wait_for("Code received")
