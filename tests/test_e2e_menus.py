"""One tidy buy menu that tells what it is doing: "Loading…" while the provider is slow and a
way to try again, typed text and a new /buy acting on the open menu instead of piling up
messages, Back and /cancel going where the person expects, also after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, TelegramEmulator
from storage.repo import UserRepo
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.helpers import buy, code_messages, set_key, until
from tests.test_e2e_buy import open_confirm, open_countries


def live_buttons(chat: EmuChat, label: str) -> int:
    return sum(1 for m in chat.bot_messages for row in m.buttons for b in row if label in b)


async def test_a_hanging_provider_shows_loading_then_a_retry_that_works(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.inject_faults("timeout", actions={"getPricesV3"})  # held, never answered
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    await chat.press("Telegram")
    await until(lambda: ("getPricesV3", "timeout") in provider.fault_log,
                "the price request reaching the provider")
    # While the provider still holds the request, the menu already says what is going on.
    assert "Loading" in menu.text
    assert menu.reply_markup is None  # nothing to press twice meanwhile
    failed = await chat.wait_for("Couldn't load prices", timeout=60)
    assert failed.message_id == menu.message_id
    assert failed.find_button("Back") is not None
    provider.clear_faults()  # the provider recovers
    await chat.press("Try again", message=failed)
    countries = await chat.wait_for("Choose a country")
    assert countries.message_id == menu.message_id
    assert "Telegram" in countries.text


async def test_a_new_buy_retires_the_previous_menu(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/buy")
    first = await chat.wait_for("Choose a service")
    await chat.wait_idle(quiet=0.1)  # a new menu is remembered once Telegram gave its id
    await chat.send("/buy")
    second = await chat.wait_for(lambda m: m.message_id > first.message_id
                                 and "Choose a service" in m.text)
    await chat.wait_idle(quiet=0.1)
    assert first.reply_markup is None
    assert second.find_button("Telegram") is not None


async def test_typed_search_edits_the_open_menu(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    await chat.wait_idle(quiet=0.1)  # a new menu is remembered once Telegram gave its id
    before = len(chat.bot_messages)
    await chat.send("whats")
    results = await chat.wait_for("Services matching “whats”")
    assert results.message_id == menu.message_id
    await chat.press("WhatsApp", message=results)
    await chat.wait_for("Choose a country")
    await chat.send("indo")  # in the country menu: filters its countries, same message
    filtered = await chat.wait_for("Countries matching “indo”")
    assert filtered.message_id == menu.message_id
    assert len(chat.bot_messages) == before


async def test_back_on_confirm_after_a_supplier_goes_to_the_suppliers(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await open_countries(chat)
    await chat.press("Russia")
    await chat.wait_for("Several suppliers")
    await chat.press("Supplier 2")
    confirm = await chat.wait_for("Confirm the purchase")
    assert "Supplier: 2" in confirm.text
    await chat.press("Back", message=confirm)
    picker = await chat.wait_for("Several suppliers")
    assert picker.message_id == confirm.message_id
    await chat.press("Cheapest", message=picker)  # "any supplier" came from there too
    confirm = await chat.wait_for("Confirm the purchase")
    await chat.press("Back", message=confirm)
    await chat.wait_for("Several suppliers")


async def test_back_on_confirm_without_suppliers_goes_to_the_countries(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    confirm = await open_confirm(chat)  # WhatsApp in Russia: a single supplier
    await chat.press("Back", message=confirm)
    await chat.wait_for("Choose a country")


async def test_prices_failing_on_a_country_go_back_to_the_countries(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    countries = await open_countries(chat, "WhatsApp")
    app.dp["prices"].invalidate()  # prices are read again when a country is picked
    provider.inject_faults("http500", actions={"getPricesV3"})
    await chat.press("Russia", message=countries)
    failed = await chat.wait_for("Couldn't load prices", timeout=30)
    provider.clear_faults()
    await chat.press("Back", message=failed)
    await chat.wait_for("Choose a country")


async def test_cancel_while_typing_a_time_zone_says_the_time_zone_is_unchanged(
        app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/settings")
    await chat.wait_for("Settings")
    await chat.press("Time zone")
    await chat.wait_for("Choose your time zone")
    await chat.press("Other")
    await chat.wait_for("Send your UTC offset")
    await chat.send("/cancel")
    answer = await chat.wait_for("Time zone not changed: still UTC+0")
    assert "/buy" not in answer.text


async def test_cancel_while_waiting_for_a_key_says_nothing_changed(
        app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/key")
    await chat.wait_for("Send me your KoalaSMS API key")
    await chat.send("/cancel")
    answer = await chat.wait_for("Nothing was changed")
    assert "/buy" not in answer.text


async def test_cancel_in_a_buy_menu_closes_it(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    countries = await open_countries(chat)
    await chat.send("/cancel")
    await chat.wait_for("Cancelled. Send /buy to start again.")
    assert countries.reply_markup is None
    await chat.send("/cancel")
    await chat.wait_for("Nothing to cancel")


async def test_cancel_right_after_a_menu_whose_write_is_still_going_closes_it(
        app: App, alice_with_key: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    """A screen does not wait for its menu's write. /cancel sent meanwhile still finds
    the menu (it said "Nothing to cancel" when it read the table before the write landed,
    and the write then left the menu open), and what the table says in the end is no menu."""
    chat = alice_with_key.chat
    release = asyncio.Event()
    set_menus = UserRepo.set_menus

    async def held(self: UserRepo, menus: Any) -> None:
        await release.wait()
        await set_menus(self, menus)

    monkeypatch.setattr(UserRepo, "set_menus", held)
    try:
        countries = await open_countries(chat)
        await chat.send("/cancel")
        await chat.wait_for("Cancelled. Send /buy to start again.")
        assert countries.reply_markup is None
    finally:
        release.set()
    await app.dp["catalogue"].menus.drain()
    async with app.manager.db() as session:
        user = await UserRepo(session).get(alice_with_key.user.id)
    assert user is not None
    assert user.menu_message_id is None


async def test_start_deep_link_offers_one_buy_a_number_button(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    sent = await chat.send("/start buy_tg")
    await chat.wait_for("Buy a number for Telegram")
    await chat.wait_idle(quiet=0.1)
    answer = [m for m in chat.bot_messages if m.message_id > sent.message_id]
    assert len(answer) == 2  # the greeting with the balance, then the linked service
    labels = [b for m in answer for row in m.buttons for b in row]
    assert labels.count("🛒 Buy a number") == 1
    assert "🛒 Buy Telegram" in labels


async def test_a_country_typed_into_an_open_country_menu_after_a_restart_filters_it(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    user = tg.add_user(first_name="Alice", language_code="en")
    chat = tg.private_chat(user)
    settings = make_settings(tmp_path, provider, tg)

    first = await build_app(settings, koala_timeout=3.0, koala_backoff=0.01)
    try:
        async with running(first, polling_timeout=1):
            await chat.send(f"/key {DEMO_KEY}")
            await chat.wait_for("100.00")
            countries = await open_countries(chat)
            await chat.wait_idle(quiet=0.1)
    finally:
        await close_app(first)

    # The same database, a new process: the FSM (memory storage) is gone.
    second = await build_app(settings, koala_timeout=3.0, koala_backoff=0.01)
    try:
        async with running(second, polling_timeout=1):
            await chat.send("indo")
            found = await chat.wait_for("Countries matching “indo”", timeout=30)
            assert found.message_id == countries.message_id
            assert [row[0].split(" · ")[0] for row in found.buttons
                    if " pcs" in row[0]] == ["🇮🇩 Indonesia"]
    finally:
        await close_app(second)


async def test_a_code_before_the_cancel_time_is_explained_on_the_card(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    a = await buy(app, alice)
    await chat.press("Cancel")
    await chat.wait_for("I will cancel it in")
    provider.deliver_sms(a.provider_id, "4321")
    card = await chat.wait_for(lambda m: m.message_id == a.card_message_id
                               and "kept the number" in m.text, timeout=15)
    assert "Code received" in card.text
    await chat.wait_idle(quiet=0.3)
    assert len(code_messages(chat, "4321")) == 1
    notices = [m for m in chat.bot_messages if "kept the number" in m.text]
    assert notices == [card]  # no message of its own
