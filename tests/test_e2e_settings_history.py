"""A person changes their settings and looks through their history of activations."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.sandbox.telegram import TelegramEmulator
from bot.ui.callbacks import HistoryCb, SettingsCb
from storage.models import Activation, User
from storage.repo import AccountRepo, ActivationRepo, CodeRepo, UserRepo
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, Person

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def load_user(app: App, user_id: int) -> User:
    async with app.db() as session:
        user = await UserRepo(session).get(user_id)
        assert user is not None
        return user


async def add_history(app: App, person: Person, count: int) -> list[Activation]:
    """`count` past activations, one an hour; every third one got a code."""
    states = [ActivationState.COMPLETED, ActivationState.CANCELLED, ActivationState.EXPIRED]
    made: list[Activation] = []
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).set_key(
            person.user.id, DEMO_KEY, linked_by=person.user.id)
        assert account.id is not None
        repo, codes = ActivationRepo(session), CodeRepo(session)
        for i in range(count):
            bought = START + timedelta(hours=i)
            a = await repo.add(Activation(
                provider_id=5000 + i, account_id=account.id, chat_id=person.chat.id,
                buyer_id=person.user.id, service="tg" if i % 2 == 0 else "wa", country=0,
                phone=f"7900000{i:04d}", cost=10.0 + i, currency=643,
                state=states[i % 3], bought_at=bought, cancel_at=bought + timedelta(minutes=2),
                ends_at=bought + timedelta(minutes=20), finished_at=bought + timedelta(minutes=5),
            ))
            if i % 3 == 0:
                await codes.record(a, f"{100000 + i}", f"Your code is {100000 + i}")
            made.append(a)
    return made


# --- settings ---------------------------------------------------------------------------


async def test_settings_menu_has_every_screen_with_back_and_close(app: App,
                                                                  alice: Person) -> None:
    chat = alice.chat
    await chat.send("/settings")
    menu = await chat.wait_for("Settings")
    assert "Language: English" in menu.text
    for label in ("Language", "Time zone", "Default country", "Favourites"):
        await chat.press(label, message=menu)
        screen = await chat.wait_for(lambda m: m.message_id == menu.message_id)
        assert screen.find_button("Back") is not None
        assert screen.find_button("Close") is not None
        await chat.press("Back", message=menu)
        await chat.wait_for("Language: English")
    await chat.press("Close", message=menu)
    await chat.wait_idle()
    assert menu.deleted


async def test_switching_language_to_russian(app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/settings")
    await chat.wait_for("Settings")
    await chat.press("Language")
    await chat.wait_for("Choose the language")
    await chat.press("Русский")
    menu = await chat.wait_for("Настройки")
    assert "Язык: Русский" in menu.text
    assert menu.find_button("Часовой пояс") is not None
    assert (await load_user(app, alice.user.id)).language == "ru"

    await chat.send("/help")
    await chat.wait_for("Как мной пользоваться")
    await chat.send("/cancel")
    await chat.wait_for("Отменять нечего")


async def test_time_zone_from_buttons_and_typed(app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/settings")
    await chat.wait_for("Time zone: UTC+0")
    await chat.press("Time zone")
    await chat.wait_for("Choose your time zone")
    await chat.press("UTC+5")
    await chat.wait_for("Time zone: UTC+5 ")
    assert (await load_user(app, alice.user.id)).tz_offset_minutes == 300

    await chat.press("Time zone")
    await chat.wait_for("Choose your time zone")
    await chat.press("Other")
    await chat.wait_for("Send your UTC offset")
    await chat.send("+25")
    await chat.wait_for("don't understand that offset")
    await chat.send("-4:30")
    reply = await chat.wait_for("Time zone set: UTC-4:30")
    assert "Settings" in reply.text
    assert (await load_user(app, alice.user.id)).tz_offset_minutes == -270
    await chat.send("/cancel")
    await chat.wait_for("Nothing to cancel")


async def test_default_country_from_buttons_typed_and_cleared(app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/settings")
    await chat.wait_for("Default country: not set")
    await chat.press("Default country")
    await chat.wait_for("Default country for buying")
    await chat.press("Germany")
    await chat.wait_for("Default country: 🇩🇪 Germany")
    assert (await load_user(app, alice.user.id)).default_country == 43

    await chat.press("Default country")
    await chat.wait_for("Default country for buying")
    await chat.press("Type a name")
    await chat.wait_for("Send the country's name")
    await chat.send("Atlantis")
    await chat.wait_for("No country matches")
    await chat.send("kazakh")
    await chat.wait_for("Default country: 🇰🇿 Kazakhstan")
    assert (await load_user(app, alice.user.id)).default_country == 2

    await chat.press("Default country")
    await chat.wait_for("Default country for buying")
    await chat.press("Type a name")
    await chat.wait_for("Send the country's name")
    await chat.send("land")
    choices = await chat.wait_for("Several countries match")
    await chat.press("Finland", message=choices)
    await chat.wait_for("Default country: 🇫🇮 Finland")

    await chat.press("Default country")
    await chat.wait_for("Default country for buying")
    await chat.press("None")
    await chat.wait_for("Default country: not set")
    assert (await load_user(app, alice.user.id)).default_country is None


async def test_removing_a_favourite(app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/start")  # creates the user row
    await chat.wait_for("Hi")
    async with app.db() as session:
        users = UserRepo(session)
        await users.toggle_favourite(alice.user.id, "tg")
        await users.toggle_favourite(alice.user.id, "wa")
    await chat.send("/settings")
    await chat.wait_for("Favourites: Telegram, WhatsApp")
    await chat.press("Favourites")
    favs = await chat.wait_for("Press ✖ to remove")
    result = await chat.press("✖ Telegram", message=favs)
    assert result.text == "Removed Telegram from favourites."
    await chat.wait_for(lambda m: m.message_id == favs.message_id and "(1)" in m.text)
    assert favs.find_button("✖ WhatsApp") is not None
    assert favs.find_button("✖ Telegram") is None
    # A second press on the old button must not bring it back.
    await chat.press_data(SettingsCb(action="unfav", owner=alice.user.id, value="tg").pack(),
                          favs.message_id)
    async with app.db() as session:
        assert await UserRepo(session).favourites(alice.user.id) == ["wa"]


async def test_someone_elses_settings_button(app: App, alice: Person,
                                             tg: TelegramEmulator) -> None:
    mallory = tg.add_user(first_name="Mallory")
    await alice.chat.send("/settings")
    menu = await alice.chat.wait_for("Settings")
    data = SettingsCb(action="setlang", owner=mallory.id, value="ru").pack()
    result = await alice.chat.press_data(data, menu.message_id)
    assert result.text == "This button is not yours."
    assert (await load_user(app, alice.user.id)).language == "en"


# --- history ----------------------------------------------------------------------------


async def test_empty_history(app: App, alice: Person) -> None:
    await alice.chat.send("/history")
    await alice.chat.wait_for("No activations yet")


async def test_history_pages_newest_first(app: App, alice: Person) -> None:
    made = await add_history(app, alice, 7)
    chat = alice.chat
    await chat.send("/history")
    page = await chat.wait_for("History")
    # Charged: completed ones (i = 0, 3, 6) cost 10 + 13 + 16.
    assert "activations: 7 · spent: 39.00 ₽" in page.text
    assert "Page 1/2" in page.text
    assert page.text.index("+79000000006") < page.text.index("+79000000002")
    assert "+79000000001" not in page.text
    assert "Code: 100006" in page.text
    assert "☑️ Completed" in page.text
    assert "✖ Cancelled, 14.00 ₽ refunded" in page.text
    assert "⌛ Ended with no code" in page.text
    assert "2025-03-01 15:00" in page.text  # bought 15:00 UTC, Alice has no offset
    assert page.find_button("◀") is None

    await chat.press("▶")
    await chat.wait_for("Page 2/2")
    assert "+79000000001" in page.text
    assert "+79000000000" in page.text
    assert "+79000000006" not in page.text
    assert page.find_button("▶") is None

    await chat.press("◀")
    await chat.wait_for("Page 1/2")
    assert len(made) == 7


async def test_history_dates_follow_the_time_zone(app: App, alice: Person) -> None:
    await add_history(app, alice, 1)
    async with app.db() as session:
        users = UserRepo(session)
        user = await users.get_or_create(alice.user.id, "en")
        user.tz_offset_minutes = 180
        await users.save(user)
    await alice.chat.send("/history")
    page = await alice.chat.wait_for("History")
    assert "2025-03-01 12:00" in page.text


async def test_history_csv(app: App, alice: Person) -> None:
    await add_history(app, alice, 7)
    chat = alice.chat
    await chat.send("/history")
    await chat.wait_for("History")
    await chat.press("CSV")
    sent = await chat.wait_for(lambda m: m.document is not None)
    assert sent.document is not None
    assert sent.document.filename == "history.csv"
    rows = list(csv.DictReader(io.StringIO(sent.document.data.decode("utf-8"))))
    assert len(rows) == 7
    assert list(rows[0]) == ["date_utc", "service_code", "service", "country", "phone", "price",
                             "currency", "state", "codes"]
    newest, oldest = rows[0], rows[-1]
    assert newest == {"date_utc": "2025-03-01 15:00:00", "service_code": "tg",
                      "service": "Telegram", "country": "Russia", "phone": "79000000006",
                      "price": "16.00", "currency": "RUB", "state": "completed",
                      "codes": "100006"}
    assert oldest["date_utc"] == "2025-03-01 09:00:00"
    assert rows[1]["state"] == "expired"
    assert rows[1]["codes"] == ""


async def test_someone_elses_history_button(app: App, alice: Person,
                                            tg: TelegramEmulator) -> None:
    await add_history(app, alice, 7)
    mallory = tg.add_user(first_name="Mallory")
    await alice.chat.send("/history")
    page = await alice.chat.wait_for("History")
    result = await alice.chat.press_data(HistoryCb(action="csv", owner=mallory.id).pack(),
                                         page.message_id)
    assert result.text == "This button is not yours."
    await alice.chat.wait_idle()
    assert all(m.document is None for m in alice.chat.bot_messages)


async def test_default_country_typed_straight_on_the_country_list(
        app: App, alice_with_key: Person) -> None:
    """A person shown a list of countries types the one that isn't there."""
    alice = alice_with_key
    chat = alice.chat
    await chat.send("/settings")
    await chat.wait_for("Default country: not set")
    await chat.press("Default country")
    await chat.wait_for("Pick one, or type its name")
    await chat.send("Герм")
    await chat.wait_for("Default country: 🇩🇪 Germany")
    assert (await load_user(app, alice.user.id)).default_country == 43
    # Afterwards, typed text is a service search again.
    await chat.send("whats")
    await chat.wait_for("Services matching")
