"""A purchase whose answer is lost or late: the bot records it before sending it, keeps
looking for the number, never takes another number for it, never buys twice, and tells
the person the truth at every step. Also: a 429 on the "Bought" edit loses no card."""

from __future__ import annotations

from bot.app import App
from bot.intents import INTENT_WINDOW
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat
from tests.conftest import DEMO_KEY, Person
from tests.helpers import until
from tests.helpers_time import TimeTravel
from tests.test_e2e_buy import cards, open_confirm

CHECKING = "checking whether the number was bought"




async def buy_slowly(chat: EmuChat, provider: ProviderSandbox) -> None:
    """Press Buy on WhatsApp in Russia; the provider buys at once but answers 6 s late."""
    await open_confirm(chat)
    provider.delay_answers(6.0, actions={"getNumberV2"}, execute_first=True)
    await chat.press("Buy for")
    await until(lambda: provider.calls("getNumberV2") == 1, "the purchase request")


async def test_slow_purchase_is_found_and_a_second_tap_buys_nothing(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    first = await open_confirm(chat)
    # The provider answers after the client's time-out (3 s in tests), then charges.
    provider.delay_answers(12.0, actions={"getNumberV2"})
    await chat.press("Buy for")
    await chat.wait_for(CHECKING, timeout=15)
    assert provider.activations == []
    # Buying the same service again, from a fresh menu, is refused while it is checked.
    await open_confirm(chat)
    second = await chat.press("Buy for")
    assert second.text is not None
    assert "still being checked" in second.text
    card = await chat.wait_for("Waiting for the SMS", timeout=30)
    [bought] = provider.activations
    assert bought.phone in card.text
    menu = chat.message(first.message_id)
    assert menu is not None
    assert "Bought" in menu.text
    provider.deliver_sms(bought.id, "246810")
    await chat.wait_for(lambda m: "246810" in m.text and m.message_id != card.message_id,
                        timeout=15)
    assert provider.calls("getNumberV2") == 1
    assert provider.balance(DEMO_KEY) == 70.0  # charged once
    assert len(cards(chat)) == 1


async def test_number_bought_in_the_web_panel_elsewhere_is_not_adopted(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await buy_slowly(chat, provider)  # WhatsApp, Russia; the answer comes late
    # Meanwhile someone buys WhatsApp in England on the same key, in the web panel.
    panel = provider.buy_in_panel(DEMO_KEY, "wa", 16)
    card = await chat.wait_for("Waiting for the SMS", timeout=20)
    [ours] = [a for a in provider.activations if a.id != panel.id]
    assert ours.country == 0
    assert ours.phone in card.text
    await chat.wait_idle(quiet=0.5, timeout=15)
    assert all(panel.phone not in m.text for m in chat.bot_messages)
    assert not provider.activation(panel.id).final  # left alone, not cancelled by the bot
    assert len(cards(chat)) == 1


async def test_two_equally_matching_numbers_the_user_is_asked(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await buy_slowly(chat, provider)  # WhatsApp, Russia; the answer comes late
    panel = provider.buy_in_panel(DEMO_KEY, "wa", 0)  # same service, country and price
    [ours] = [a for a in provider.activations if a.id != panel.id]
    ask = await chat.wait_for("Which one did you buy here?", timeout=20)
    assert ask.find_button(ours.phone) is not None
    assert ask.find_button(panel.phone) is not None
    assert ask.find_button("None of these") is not None
    assert cards(chat) == []  # nothing guessed
    # Still undecided: no second purchase of the service meanwhile.
    await open_confirm(chat)
    refused = await chat.press("Buy for")
    assert refused.text is not None
    assert "still being checked" in refused.text
    await chat.press(ours.phone, message=ask)
    card = await chat.wait_for("Waiting for the SMS", timeout=15)
    assert ours.phone in card.text
    await chat.wait_idle(quiet=0.5, timeout=15)
    assert len(cards(chat)) == 1
    assert provider.calls("getNumberV2") == 1


async def test_no_number_after_the_window_nothing_was_bought(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await open_confirm(chat)
    clock = TimeTravel(app, provider)
    provider.inject_faults("http500", actions={"getNumberV2"}, count=1)  # not executed
    await chat.press("Buy for")
    checking = await chat.wait_for(CHECKING, timeout=15)
    assert checking.find_button("Buy for") is None
    clock.advance(INTENT_WINDOW / 2)
    await chat.wait_idle(quiet=1.0, timeout=15)
    assert CHECKING in (chat.message(checking.message_id) or checking).text  # still looking
    clock.advance(INTENT_WINDOW / 2 + 1)
    done = await chat.wait_for("nothing was bought", timeout=15)
    assert done.message_id == checking.message_id
    assert provider.activations == []
    # Unblocked: the person can buy again.
    await chat.press("Try again", message=done)
    await chat.wait_for("Confirm the purchase")
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS", timeout=15)
    assert len(provider.activations) == 1
    assert provider.balance(DEMO_KEY) == 70.0


async def test_flood_control_on_the_bought_edit_still_shows_the_card(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await open_confirm(chat)
    provider.delay_answers(0.5, actions={"getNumberV2"})
    await chat.press("Buy for")
    await until(lambda: provider.calls("getNumberV2") == 1, "the purchase request")
    # The next edit or send in this chat (the "Bought" edit) gets a long 429.
    chat.flood(retry_after=60, count=1)
    card = await chat.wait_for("Waiting for the SMS", timeout=15)
    [bought] = provider.activations
    assert bought.phone in card.text


async def _ambiguous(chat_person: Person, provider: ProviderSandbox) -> None:
    chat = chat_person.chat
    await buy_slowly(chat, provider)  # WhatsApp, Russia; the answer comes late
    provider.buy_in_panel(DEMO_KEY, "wa", 0)


async def test_none_of_these_adopts_nothing_and_unblocks(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await _ambiguous(alice_with_key, provider)
    ask = await chat.wait_for("Which one did you buy here?", timeout=20)
    await chat.press("None of these", message=ask)
    await chat.wait_for("none of these numbers", timeout=15)
    assert cards(chat) == []
    assert not any(a.final for a in provider.activations)  # left alone
    await open_confirm(chat)
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS", timeout=15)
    assert provider.calls("getNumberV2") == 2


async def test_a_question_never_answered_stops_blocking(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    clock = TimeTravel(app, provider)
    await _ambiguous(alice_with_key, provider)
    ask = await chat.wait_for("Which one did you buy here?", timeout=20)
    clock.advance(31 * 60)
    gave_up = await chat.wait_for("couldn't check whether", timeout=15)
    assert gave_up.message_id == ask.message_id
    assert gave_up.find_button("None of these") is None
    await open_confirm(chat)
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS", timeout=15)
