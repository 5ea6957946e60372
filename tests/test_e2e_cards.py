"""Activation cards: one live card per number, time left kept current, the country the
provider gave, and the truth while a cancel at the end is not confirmed."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from pathlib import Path

from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, TelegramEmulator
from bot.ui.cards import phone_display
from storage.models import Activation
from storage.repo import AccountRepo, UserRepo
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.helpers import buy, code_then_card, set_key, stored, within
from tests.helpers_time import TimeTravel, ticks


def card_copies(chat: EmuChat, a: Activation) -> list[EmuMessage]:
    """Every message that is or was a card of `a` (the pointer text keeps the number)."""
    return [m for m in chat.bot_messages
            if phone_display(a.phone) in m.text and not m.text.startswith(("🔑", "Running"))]


def action_buttons(m: EmuMessage) -> list[str]:
    return [label for row in m.buttons for label in row if "Copy" not in label]


async def test_active_twice_keeps_one_live_card_per_number(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    first = await buy(app, alice)
    second = await buy(app, alice, service="wa", country=22)

    await chat.send("/active")
    await chat.wait_for("Running activations: 2")
    await chat.send("/active")
    listing = await chat.wait_for(lambda m: m.text.startswith("Running activations: 2")
                                  and m.message_id > (second.card_message_id or 0) + 1)
    await chat.wait_idle()
    assert len(card_copies(chat, first)) == 1  # no copies from either /active
    assert len(card_copies(chat, second)) == 1

    # The entry brings the card down; the older copy keeps no button.
    await chat.press(f"1. Telegram {phone_display(first.phone)}", message=listing)
    live = await chat.wait_for(lambda m: m.text.startswith("Telegram")
                               and m.message_id > listing.message_id)
    old = await chat.wait_for(lambda m: m.message_id == first.card_message_id
                              and "moved further down" in m.text)
    assert old.reply_markup is None or old.buttons == []
    assert "moved further down" in old.text
    assert "Waiting" not in old.text
    assert (await stored(app, first)).card_message_id == live.message_id
    assert "✖ Cancel" in action_buttons(live)

    provider.deliver_sms(first.provider_id, "6161")
    code = await code_then_card(app, chat, "6161", timeout=within(app))
    assert code.reply_to == live.message_id
    await chat.wait_idle()
    assert "Code received" in live.text
    for copy in card_copies(chat, first):
        if copy.message_id != live.message_id:
            assert copy.buttons == []  # no Cancel left anywhere for a number with a code
    # An entry of an older list still works: it brings the one card, not a stale copy.
    await chat.press(f"1. Telegram {phone_display(first.phone)}", message=listing)
    newest = await chat.wait_for(lambda m: m.text.startswith("Telegram")
                                 and m.message_id > code.message_id)
    assert "Code received" in newest.text
    await chat.wait_for(lambda m: m.message_id == live.message_id and m.buttons == [])


async def test_one_live_card_after_a_restart(tmp_path: Path, provider: ProviderSandbox,
                                             tg: TelegramEmulator) -> None:
    user = tg.add_user(first_name="Alice", language_code="en")
    alice = Person(user, tg.private_chat(user))
    chat = alice.chat
    settings = make_settings(tmp_path, provider, tg)
    first_run = await build_app(settings, koala_timeout=3.0, koala_backoff=0.01)
    try:
        async with running(first_run, polling_timeout=1):
            await set_key(first_run, alice)
            a = await buy(first_run, alice)
            await chat.send("/active")
            await chat.wait_for("Running activations: 1")
            await chat.wait_idle()
    finally:
        await close_app(first_run)

    second_run = await build_app(settings, koala_timeout=3.0, koala_backoff=0.01)
    try:
        async with running(second_run, polling_timeout=1):
            await chat.send("/active")
            listing = await chat.wait_for(lambda m: m.text.startswith("Running activations")
                                          and m.message_id > (a.card_message_id or 0) + 2)
            await chat.press(f"1. Telegram {phone_display(a.phone)}", message=listing)
            live = await chat.wait_for(lambda m: m.text.startswith("Telegram")
                                       and m.message_id > listing.message_id)
            provider.deliver_sms(a.provider_id, "7171")
            code = await code_then_card(second_run, chat, "7171", timeout=within(second_run))
            assert code.reply_to == live.message_id
            await chat.wait_idle()
            assert "Code received" in live.text
            old = chat.message(a.card_message_id or 0)
            assert old is not None
            assert old.buttons == []
            assert "Waiting" not in old.text
            assert len(card_copies(chat, a)) == 2
    finally:
        await close_app(second_run)


async def test_card_shows_time_left_and_is_refreshed_at_thresholds(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    clock = TimeTravel(app, provider)
    await set_key(app, alice)
    a = await buy(app, alice)
    card = chat.message(a.card_message_id or 0)
    assert card is not None
    assert re.search(r"cancel in 1:[0-5]\d · 19 min left", card.text), card.text
    assert "ends at" not in card.text
    assert "from" not in card.text

    # Between thresholds the clock moves but the card is not edited on every tick.
    clock.advance(30)
    await ticks(app, 4)
    assert len(card.edits) == 0

    clock.advance(95)  # the cancel window opens
    await chat.wait_for(lambda m: m.message_id == card.message_id
                        and "17 min left" in m.text and "cancel in" not in m.text,
                        timeout=15)
    edits = len(card.edits)
    await ticks(app, 4)
    assert len(card.edits) == edits

    clock.advance(17 * 60 - 125 + 1)  # one second under 3 minutes left: past "5 min"
    await chat.wait_for(lambda m: m.message_id == card.message_id and "2 min left" in m.text,
                        timeout=15)
    assert len(card.edits) == edits + 1  # thresholds passed together cost one edit
    assert "✖ Cancel" in action_buttons(card)


async def test_a_time_zone_set_by_the_user_adds_the_clock_time(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    await set_key(app, alice)
    async with app.db() as session:
        users = UserRepo(session)
        user = await users.get_or_create(alice.user.id)
        user.tz_offset_minutes = 120
        await users.save(user)
    a = await buy(app, alice)
    card = alice.chat.message(a.card_message_id or 0)
    assert card is not None
    ends = a.ends_at.astimezone(timezone(timedelta(hours=2)))  # the user's zone
    assert f"19 min left · ends at {ends:%H:%M}" in card.text


async def test_any_country_shows_the_country_the_provider_gave(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    provider.set_offer("tg", 16, 1.0, 5)  # the cheapest: "any country" gets the UK
    await set_key(app, alice)
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(alice.user.id)
    assert account is not None
    a = await app.manager.purchase(account=account, chat_id=alice.chat.id,
                                   buyer_id=alice.user.id, service="tg", country=None,
                                   max_price=None)
    a = await app.manager.send_card(a)
    assert a.country is None  # the user's choice stays "any"
    card = await alice.chat.wait_for("Waiting for the SMS")
    assert card.text.startswith("Telegram · 🇬🇧 United Kingdom")
    assert "Any country" not in card.text

    await alice.chat.send("/history")
    history = await alice.chat.wait_for("1. Telegram")
    assert "🇬🇧 United Kingdom" in history.text
    assert "Any country" not in history.text


async def test_a_cancel_refused_past_the_end_is_told_truthfully(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    clock = TimeTravel(app, provider)
    await set_key(app, alice)
    a = await buy(app, alice)
    provider.refuse_cancel(a.provider_id)

    clock.advance(1200 + 1)  # past the end; every cancel is refused
    card = await chat.wait_for("has not confirmed the cancel yet", timeout=15)
    assert card.message_id == a.card_message_id
    assert "I keep trying" in card.text
    assert "Waiting for the SMS" not in card.text
    assert action_buttons(card) == []  # nothing to press while the bot is on it
    await ticks(app, 4)
    assert (await stored(app, a)).state == ActivationState.WAITING
    assert provider.balance(DEMO_KEY) == 100.0 - 22.0

    provider.allow_cancel(a.provider_id)
    # Either the bot's cancel goes through or the provider ends the number first: both are
    # told as they happened, with the refund.
    await chat.wait_for(lambda m: "no code came in time" in m.text
                        and ("I cancelled it" in m.text or "had already ended it" in m.text)
                        and "refunded" in m.text, timeout=20)
    assert "Ended with no code" in card.text
    assert "not confirmed" not in card.text
    assert (await stored(app, a)).state == ActivationState.EXPIRED
    assert provider.balance(DEMO_KEY) == 100.0
