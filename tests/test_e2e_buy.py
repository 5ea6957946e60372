"""A person buys a number in a private chat: menus, live prices, confirm, and a way
forward from every error. The real bot polls the Telegram emulator and the provider
sandbox; time moves with TimeTravel, never by sleeping."""

from __future__ import annotations

import asyncio
import re

from bot.app import App
from bot.intents import INTENT_WINDOW
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, TelegramEmulator
from bot.ui.callbacks import (
    BuyAction,
    BuyCb,
    CountryAction,
    CountryCb,
    ServiceAction,
    ServiceCb,
)
from storage.repo import AccountRepo
from tests.conftest import DEMO_KEY, Person
from tests.helpers_time import TimeTravel


def cards(chat: EmuChat) -> list[EmuMessage]:
    return [m for m in chat.bot_messages if m.text.splitlines()[1:2]
            and m.text.splitlines()[1].startswith("Number:")]


def button_data(message: EmuMessage, label: str) -> str:
    return str(message.button(label)["callback_data"])


def country_labels(message: EmuMessage) -> list[str]:
    return [b for row in message.buttons for b in row if " pcs" in b]


async def open_countries(chat: EmuChat, service: str = "Telegram") -> EmuMessage:
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    await chat.press(service)
    return await chat.wait_for("Choose a country")


async def open_confirm(chat: EmuChat, service: str = "WhatsApp",
                       country: str = "Russia") -> EmuMessage:
    await open_countries(chat, service)
    await chat.press(country)
    return await chat.wait_for("Confirm the purchase")


async def test_whole_story_buy_cancel_and_buy_again(app: App, alice_with_key: Person,
                                                    provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    clock = TimeTravel(app, provider)
    menu = await open_countries(chat)
    assert menu.buttons[0][0].startswith("🌍 Any country · from 9.90")
    await chat.press("Russia")
    picker = await chat.wait_for("Several suppliers")
    assert picker.buttons[0] == ["Cheapest (22.00)"]
    assert "Supplier 2 · 22.00 · 35 pcs" in [row[0] for row in picker.buttons]
    await chat.press("Cheapest")
    confirm = await chat.wait_for("Confirm the purchase")
    assert "Price: 22.00" in confirm.text
    assert "Balance after purchase: 78.00" in confirm.text
    await chat.press("Buy for 22.00")
    card = await chat.wait_for("cancel in")
    assert re.search(r"Number: \+7\d{10}", card.text)
    assert "Price: 22.00" in card.text
    assert card.find_button("Cancel") is not None
    assert "Bought: see the card below" in chat.message(confirm.message_id).text  # type: ignore[union-attr]
    assert provider.balance(DEMO_KEY) == 78.0

    clock.advance(121)
    await chat.press("Cancel", message=card)
    await chat.wait_for("refunded")
    assert provider.balance(DEMO_KEY) == 100.0

    await chat.press("Buy again", message=card)
    again = await chat.wait_for("Confirm the purchase")
    assert again.message_id != card.message_id  # the card stays a card
    assert "Russia" in again.text
    # The first purchase told the account's currency, which price lists never name.
    assert "Price: 22.00 ₽" in again.text
    assert "Balance after purchase: 78.00 ₽" in again.text
    await chat.press("Buy for", message=again)
    await chat.wait_for(lambda m: m.message_id > again.message_id and "Number:" in m.text)
    assert provider.calls("getNumberV2") == 2
    assert provider.balance(DEMO_KEY) == 78.0
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    assert menu.buttons[0][0] == "🕘 Telegram"  # recent services come first


async def test_typing_part_of_a_name_searches_services(app: App,
                                                       alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("whats")
    results = await chat.wait_for("Services matching “whats”")
    assert results.find_button("WhatsApp") is not None
    await chat.press("WhatsApp")
    await chat.wait_for("Choose a country")

    await chat.send("/cancel")
    await chat.wait_for("Cancelled")  # the menu is closed: typed text searches again
    await chat.send("qqqzzzxx")
    missing = await chat.wait_for("Nothing found for “qqqzzzxx”")
    await chat.press("Services", message=missing)
    await chat.wait_for("Choose a service")
    await chat.send("<b>x")  # shown as typed, not as markup
    await chat.wait_for("Nothing found for “<b>x”")


async def test_menus_page_and_old_buttons_still_work(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    assert menu.buttons[-2] == ["Page 1/2", "▶"]
    assert all(len(row) <= 2 for row in menu.buttons)
    await chat.press("▶")
    page2 = await chat.wait_for(lambda m: "Page 2/2" in str(m.buttons))
    assert page2.find_button("Claude") is not None
    await chat.press("🔍 Search")
    assert chat.callbacks[-1].text is not None
    assert "type part" in chat.callbacks[-1].text

    await chat.press("◀")
    await chat.wait_for(lambda m: "Page 1/2" in str(m.buttons))
    await chat.press("Telegram")
    countries = await chat.wait_for("Choose a country")
    assert len(country_labels(countries)) == 9  # 10 a page: "any country" and 9
    await chat.press("▶", message=countries)
    page2 = await chat.wait_for(lambda m: "Page 2/2" in str(m.buttons))
    assert len(country_labels(page2)) == 3
    await chat.press("« Services", message=page2)
    await chat.wait_for("Choose a service")


async def test_sort_by_stock(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    by_price = await open_countries(chat)
    prices = [float(label.split(" · ")[1]) for label in country_labels(by_price)]
    assert prices == sorted(prices)
    await chat.press("Sort by stock")
    by_stock = await chat.wait_for(lambda m: m.find_button("Sort by price") is not None)
    stocks = [int(label.split(" · ")[2].split()[0]) for label in country_labels(by_stock)]
    assert stocks == sorted(stocks, reverse=True)
    assert all("out" not in label for label in country_labels(by_stock))


async def test_favourite_star(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await open_countries(chat, "Discord")
    await chat.press("Add to favourites")
    assert chat.callbacks[-1].text == "Added to favourites."
    await chat.wait_for(lambda m: m.find_button("Remove from favourites") is not None)
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    assert menu.buttons[0][0] == "⭐ Discord"
    await chat.press("⭐ Discord")
    await chat.wait_for("Choose a country")
    await chat.press("Remove from favourites")
    await chat.wait_for(lambda m: m.find_button("Add to favourites") is not None)
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    assert menu.buttons[0][0] == "Telegram"


async def test_double_tap_buys_once(app: App, alice_with_key: Person,
                                    provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    confirm = await open_confirm(chat)
    data = button_data(confirm, "Buy for")
    first, second = await asyncio.gather(chat.press_data(data, confirm.message_id),
                                         chat.press_data(data, confirm.message_id))
    await chat.wait_for("Waiting for the SMS")
    await chat.wait_idle(quiet=0.2)
    assert provider.calls("getNumberV2") == 1
    assert provider.balance(DEMO_KEY) == 70.0
    assert len(cards(chat)) == 1
    assert {first.text, second.text} & {"Already buying…", "Already bought: see the card."}
    late = await chat.press_data(data, confirm.message_id)  # an old client re-sends it
    assert late.text == "Already bought: see the card."
    assert provider.calls("getNumberV2") == 1


async def test_price_rose_buy_at_the_new_price(app: App, alice_with_key: Person,
                                               provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    confirm = await open_confirm(chat)
    assert "Price: 30.00" in confirm.text
    provider.set_offer("wa", 0, 33.0, 50)
    await chat.press("Buy for 30.00")
    rose = await chat.wait_for("rose to 33.00")
    assert rose.find_button("Back") is not None
    await chat.press("Buy at 33.00")
    await chat.wait_for("Waiting for the SMS")
    assert provider.balance(DEMO_KEY) == 67.0


async def test_sold_out_offers_countries_that_have_numbers(app: App, alice_with_key: Person,
                                                          provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await open_confirm(chat)
    provider.set_offer("wa", 0, 30.0, 0)
    await chat.press("Buy for")
    sold_out = await chat.wait_for("No numbers left for WhatsApp")
    alternatives = [row[0] for row in sold_out.buttons[:-1]]
    assert 1 <= len(alternatives) <= 5
    assert not any("Russia" in label for label in alternatives)
    assert sold_out.find_button("Countries") is not None
    await chat.press(alternatives[0])
    confirm = await chat.wait_for("Confirm the purchase")
    await chat.press("Buy for", message=confirm)
    await chat.wait_for("Waiting for the SMS")
    assert provider.calls("getNumberV2") == 2


async def test_not_enough_balance(app: App, alice_with_key: Person,
                                  provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.add_account(DEMO_KEY, balance=0.5)
    confirm = await open_confirm(chat)
    assert "not enough" in confirm.text
    await chat.press("Buy for")
    poor = await chat.wait_for("Not enough money")
    assert "you have 0.50" in poor.text
    provider.add_account(DEMO_KEY, balance=100.0)  # topped up on the site
    await chat.press("Try again")
    await chat.wait_for("Balance after purchase: 70.00")
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS")


async def test_key_refused_at_purchase(app: App, alice_with_key: Person,
                                       provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await open_confirm(chat)
    # Meanwhile the key was replaced by one KoalaSMS does not know (revoked on the site).
    async with app.db() as session:
        await AccountRepo(session, app.keybox).set_key(
            alice_with_key.user.id, "revokedKEY0123456789abcdef", alice_with_key.user.id)
    await chat.press("Buy for")
    refused = await chat.wait_for("does not accept your API key")
    assert refused.button("Set API key")["callback_data"].startswith("k:set:")
    assert provider.activations == []


async def test_prices_unavailable_then_try_again(app: App, alice_with_key: Person,
                                                 provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.inject_faults("http500", actions={"getPricesV3"}, count=100)
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    await chat.press("Telegram")
    failed = await chat.wait_for("Couldn't load prices")
    assert failed.find_button("Back") is not None
    provider.clear_faults()
    await chat.press("Try again")
    await chat.wait_for("Choose a country")


async def test_purchase_not_answered_nothing_bought(app: App, alice_with_key: Person,
                                                    provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await open_confirm(chat)
    provider.inject_faults("http500", actions={"getNumberV2"}, count=1)
    clock = TimeTravel(app, provider)
    await chat.press("Buy for")
    # A 5xx is an unknown outcome: the bot keeps looking for the number for a while...
    await chat.wait_for("checking whether the number was bought")
    clock.advance(INTENT_WINDOW + 1)
    # ...and only then says that nothing was bought.
    await chat.wait_for("nothing was bought", timeout=15)
    assert provider.activations == []
    await chat.press("Try again")
    await chat.wait_for("Confirm the purchase")
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS")
    assert len(provider.activations) == 1


async def test_lost_purchase_answer_is_reconciled(app: App, alice_with_key: Person,
                                                  provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    await open_confirm(chat)
    provider.inject_faults("lost_answer", actions={"getNumberV2"}, count=1)
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS")
    await chat.wait_idle(quiet=0.2)
    assert provider.calls("getNumberV2") == 1
    assert len(provider.activations) == 1
    assert len(cards(chat)) == 1
    assert provider.activations[0].phone in cards(chat)[0].text


async def test_someone_elses_buttons_are_refused(app: App, alice_with_key: Person,
                                                 tg: TelegramEmulator,
                                                 provider: ProviderSandbox) -> None:
    bob = tg.add_user(first_name="Bob", language_code="en")
    bob_chat = tg.private_chat(bob)
    alice_id = alice_with_key.user.id
    await bob_chat.send("/start")
    hello = await bob_chat.wait_for("KoalaSMS")
    forged = [
        CountryCb(action=CountryAction.PICK, owner=alice_id, svc="wa", country=0).pack(),
        BuyCb(action=BuyAction.OK, owner=alice_id, svc="wa", country=0, price="30").pack(),
        ServiceCb(action=ServiceAction.PAGE, owner=alice_id).pack(),
    ]
    for data in forged:
        answer = await bob_chat.press_data(data, hello.message_id)
        assert answer.text == "This button is not yours."
    assert provider.calls("getNumberV2") == 0


async def test_typed_country_filter(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await open_countries(chat)
    await chat.send("indo")
    found = await chat.wait_for("Countries matching “indo”")
    assert [label.split(" · ")[0] for label in country_labels(found)] == ["🇮🇩 Indonesia"]
    await chat.send("atlantis")
    missing = await chat.wait_for("No country with numbers matches")
    assert missing.message_id == found.message_id  # the open menu, edited in place
    await chat.send("indo")  # still that service's countries: typing filters them again
    found = await chat.wait_for("Countries matching “indo”")
    await chat.press("Indonesia", message=found)
    await chat.wait_for("Several suppliers")
    await chat.send("whats")  # left the country menu: typing searches services again
    await chat.wait_for("Services matching")


async def test_no_key_asks_for_one(app: App, alice: Person) -> None:
    await alice.chat.send("/buy")
    reply = await alice.chat.wait_for("no KoalaSMS API key")
    assert reply.button("Set API key")["callback_data"].startswith("k:set:")


async def test_default_country_is_pinned(app: App, alice_with_key: Person) -> None:
    # As /settings sets it (the person's row is kept; a change goes through the service).
    await app.dp["settings_service"].set_country(alice_with_key.user.id, 43)  # Germany: dearest
    menu = await open_countries(alice_with_key.chat)
    assert menu.buttons[1][0].startswith("🇩🇪 Germany")


def test_callback_data_fits_64_bytes() -> None:
    from bot.ui.keyboards_buy import fit_query

    big = 10 ** 13
    long_q = "очень длинный запрос: названия сервиса " * 3
    q = fit_query(lambda s: ServiceCb(action=ServiceAction.SEARCH, owner=big, page=99, q=s),
                  long_q)
    assert q
    assert ":" not in q
    packed = ServiceCb(action=ServiceAction.SEARCH, owner=big, page=99, q=q).pack()
    assert len(packed.encode()) <= 64
    q = fit_query(lambda s: CountryCb(action=CountryAction.PAGE, owner=big, svc="bxw", page=99,
                                      sort="s",
                                      country=204, q=s), long_q)
    assert len(CountryCb(action=CountryAction.PAGE, owner=big, svc="bxw", page=99, sort="s",
                         country=204,
                         q=q).pack().encode()) <= 64
    assert len(BuyCb(action=BuyAction.SHOW, owner=big, svc="bxw", country=204, price="12345.6789",
                     provider=99999).pack().encode()) <= 64


async def test_buy_button_of_another_area_opens_the_menu_below(app: App,
                                                               alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    saved = await chat.wait_for("Key saved")
    await chat.press("Buy a number", message=saved)
    menu = await chat.wait_for("Choose a service")
    assert menu.message_id != saved.message_id
    assert "Key saved" in saved.text
    assert not saved.edits


async def test_prohibited_service_offers_another(app: App, alice_with_key: Person,
                                                 provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.set_offer("prohibited", 0, 5.0, 10)
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    data = BuyCb(action=BuyAction.OK, owner=alice_with_key.user.id, svc="prohibited", country=0,
                 price="5").pack()
    await chat.press_data(data, menu.message_id)
    refused = await chat.wait_for("does not sell")
    await chat.press("Services", message=refused)
    await chat.wait_for("Choose a service")
    assert provider.activations == []


async def test_unknown_purchase_outcome_is_said_honestly(app: App, alice_with_key: Person,
                                                         provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    confirm = await open_confirm(chat)
    data = button_data(confirm, "Buy for")
    provider.inject_faults("lost_answer", actions={"getNumberV2"}, count=1)
    provider.inject_faults("http500", actions={"getActiveActivations"})
    await chat.press_data(data, confirm.message_id)
    lost = await chat.wait_for("checking whether the number was bought")
    assert lost.find_button("Buy for") is None
    # The old Buy button (an old client re-sends it) must not buy a second number blindly.
    again = await chat.press_data(data, confirm.message_id)
    assert again.text is not None
    assert "still being checked" in again.text
    assert provider.calls("getNumberV2") == 1


async def test_provider_without_getnumberv2_still_sells(app: App, alice_with_key: Person,
                                                        provider: ProviderSandbox) -> None:
    """BAD_ACTION on getNumberV2 means nothing was bought: getNumber does the purchase."""
    provider.disable_action("getNumberV2")
    chat = alice_with_key.chat
    await open_confirm(chat)
    await chat.press("Buy for")
    card = await chat.wait_for("Waiting for the SMS")
    assert "Price: 30.00" in card.text  # getNumber has no price: the one confirmed is kept
    assert provider.calls("getNumberV2") == 1
    assert provider.calls("getNumber") == 1
    assert provider.balance(DEMO_KEY) == 70.0
    # Remembered: the next purchase goes straight to getNumber.
    await open_confirm(chat)
    await chat.press("Buy for")
    await chat.wait_for("Waiting for the SMS")
    assert provider.calls("getNumberV2") == 1
    assert provider.calls("getNumber") == 2
