"""Money is written one way everywhere (the account's currency sign once known, the
provider's precision, maxPrice = the price shown), and Russian speakers find services by
the names they use and read them in Russian."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from importlib import resources

from bot.app import App
from bot.catalog import Catalog
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, TelegramEmulator
from storage.models import Account
from tests.conftest import DEMO_KEY, Person

WAIT = 20.0  # generous: a loaded 2-core machine


def all_buttons(message: EmuMessage) -> list[str]:
    return [b for row in message.buttons for b in row]


async def account_currency(app: App) -> int | None:
    async with app.db() as session:
        account = (await session.get(Account, 1))
        return account.currency if account is not None else None


async def wait_currency(app: App) -> int:
    for _ in range(400):
        currency = await account_currency(app)
        if currency is not None:
            return currency
        await asyncio.sleep(0.05)
    raise AssertionError("the account never learned its currency")


async def buy_whatsapp_in_russia(chat: EmuChat) -> EmuMessage:
    await chat.send("/buy")
    await chat.wait_for("Choose a service", timeout=WAIT)
    await chat.press("WhatsApp")
    await chat.wait_for("Choose a country", timeout=WAIT)
    await chat.press("Russia")
    confirm = await chat.wait_for("Confirm the purchase", timeout=WAIT)
    await chat.press("Buy for", message=confirm)
    return await chat.wait_for("cancel in", timeout=WAIT)


# --- currency ---------------------------------------------------------------------------


async def test_the_currency_sign_shows_everywhere_once_a_purchase_named_it(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    card = await buy_whatsapp_in_russia(chat)  # getNumberV2 answers currency 643
    assert "Price: 30.00 ₽" in card.text

    await chat.send("/balance")
    balance = await chat.wait_for("Balance", timeout=WAIT)
    assert "70.00 ₽" in balance.text

    await chat.send("/buy")
    await chat.wait_for("Choose a service", timeout=WAIT)
    await chat.press("Telegram")
    menu = await chat.wait_for("Choose a country", timeout=WAIT)
    assert menu.buttons[0][0].startswith("🌍 Any country · from 9.90 ₽")
    countries = [b for b in all_buttons(menu) if " pcs" in b]
    assert countries
    assert all(" ₽ · " in b for b in countries), countries
    await chat.press("Russia")
    picker = await chat.wait_for("Several suppliers", timeout=WAIT)
    assert picker.buttons[0] == ["Cheapest (22.00 ₽)"]
    await chat.press("Cheapest")
    confirm = await chat.wait_for("Confirm the purchase", timeout=WAIT)
    assert "Price: 22.00 ₽" in confirm.text
    assert "Balance after purchase: 48.00 ₽" in confirm.text
    assert confirm.find_button("Buy for 22.00 ₽") is not None

    await chat.send("/history")
    history = await chat.wait_for("History", timeout=WAIT)
    await chat.press("CSV", message=history)
    sent = await chat.wait_for(lambda m: m.document is not None, timeout=WAIT)
    assert sent.document is not None
    rows = list(csv.DictReader(io.StringIO(sent.document.data.decode("utf-8"))))
    assert [(r["price"], r["currency"]) for r in rows] == [("30.00", "RUB")]
    assert await account_currency(app) == 643  # stored with the account


async def test_the_currency_is_learned_from_the_activation_list_too(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    """getNumber (v1) names no currency; the poller's getActiveActivations does."""
    provider.disable_action("getNumberV2")
    chat = alice_with_key.chat
    await buy_whatsapp_in_russia(chat)
    assert provider.calls("getNumber") == 1
    assert await wait_currency(app) == 643
    await chat.send("/balance")
    balance = await chat.wait_for("Balance", timeout=WAIT)
    assert "70.00 ₽" in balance.text


async def test_a_price_of_1_555_is_shown_and_sent_as_1_555(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    provider.set_offer("tg", 0, 1.555, 50)
    chat = alice_with_key.chat
    await chat.send("/buy")
    await chat.wait_for("Choose a service", timeout=WAIT)
    await chat.press("Telegram")
    menu = await chat.wait_for("Choose a country", timeout=WAIT)
    assert any(b.startswith("🇷🇺 Russia · 1.555 · ") for b in all_buttons(menu)), menu.buttons
    await chat.press("Russia")
    confirm = await chat.wait_for("Confirm the purchase", timeout=WAIT)
    assert "Price: 1.555" in confirm.text
    assert "Balance after purchase: 98.445" in confirm.text
    await chat.press("Buy for 1.555", message=confirm)
    card = await chat.wait_for("cancel in", timeout=WAIT)
    sent = [params for action, params in provider.requests if action == "getNumberV2"]
    assert [p.get("maxPrice") for p in sent] == ["1.555"]
    assert provider.balance(DEMO_KEY) == 98.445
    assert "Price: 1.555 ₽" in card.text


# --- Russian names --------------------------------------------------------------------


async def test_russian_speakers_find_services_by_their_russian_names(
        app: App, tg: TelegramEmulator) -> None:
    user = tg.add_user(first_name="Иван", language_code="ru")
    chat = tg.private_chat(user)
    await chat.send(f"/key {DEMO_KEY}")
    await chat.wait_for("100.00", timeout=WAIT)

    for typed, shown in [("телеграм", "Telegram"), ("ватсап", "WhatsApp"),
                         ("вк", "ВКонтакте"), ("яндекс", "Яндекс"),
                         ("одноклассники", "Одноклассники"), ("Вконтакте", "ВКонтакте"),
                         ("ТЕЛЕГРАММ", "Telegram"), ("перекресток", "Перекрёсток"),
                         ("перекрёсток", "Перекрёсток"), ("пятёрочка", "X5 ID"),
                         ("пятерочка", "X5 ID"), ("VK", "ВКонтакте"),
                         ("Odnoklassniki", "Одноклассники"), ("авито", "Авито")]:
        await chat.send(typed)
        results = await chat.wait_for(f"Сервисы по запросу «{typed}»", timeout=WAIT)
        assert all_buttons(results)[0] == shown, (typed, results.buttons)

    await chat.send("одноклассники")  # each search edits the one open menu
    await chat.wait_for("Сервисы по запросу «одноклассники»", timeout=WAIT)
    await chat.press("Одноклассники")
    await chat.wait_for(lambda m: m.text.startswith("Одноклассники"), timeout=WAIT)
    await chat.send("/buy")
    menu = await chat.wait_for("Выберите сервис", timeout=WAIT)
    assert "ВКонтакте" in all_buttons(menu)
    assert "VK" not in all_buttons(menu)


async def test_english_search_still_works_and_finds_by_russian_spelling_too(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    for typed, shown in [("whats", "WhatsApp"), ("VK", "VK"), ("odnoklassniki", "Odnoklassniki"),
                         ("телеграм", "Telegram"), ("Téle", "Telegram"), ("вк", "VK")]:
        await chat.send(typed)
        results = await chat.wait_for(f"Services matching “{typed}”", timeout=WAIT)
        assert all_buttons(results)[0] == shown, (typed, results.buttons)
    await chat.press("VK", message=results)
    await chat.wait_for("Choose a country", timeout=WAIT)


def test_at_least_150_services_have_russian_names() -> None:
    codes = json.loads(resources.files("bot").joinpath("data", "services.json")
                       .read_text(encoding="utf-8"))
    table = json.loads(resources.files("bot").joinpath("data", "services_ru.json")
                       .read_text(encoding="utf-8"))
    assert len(table) >= 150
    for code, entry in table.items():
        assert code in codes, code
        assert entry["name"].strip(), code
        assert all(isinstance(a, str) and a.strip() for a in entry["aliases"]), code
    catalog = Catalog()
    named = catalog.russian_names()
    assert len(named) >= 150
    assert all(code in named for code in catalog.popular())  # the menu reads Russian
    assert catalog.service_name("vk", "ru") == "ВКонтакте"
    assert catalog.service_name("vk") == "VK"
