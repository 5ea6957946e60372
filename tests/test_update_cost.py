"""What each update reads is kept between updates, and a change is seen at once.

The user's row, the account that pays and the open menu are read once and kept
(bot/services/snapshots.py); these stories change each of them through the real bot and
check that the very next answer shows the change. Statement counts are counts, not times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder as AiogramBuilder
from sqlalchemy import event

from bot.app import App, build_app, close_app, running
from bot.inline_filters import _routers
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from bot.services.snapshots import Lookups, Snapshots, changes_entries
from bot.ui.builder import InlineKeyboardBuilder
from storage.db import create_engine, session_factory
from storage.repo import AccountRepo
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.helpers import until, within
from tests.test_backends import needs_postgres, pg_database  # noqa: F401 (a fixture)
from tests.test_e2e_buy import open_countries
from tests.test_e2e_settings_history import add_history

OTHER_KEY = "otherKEY9876543210zyxwvuZYXWVU"


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """SQL statements the bot runs inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count)


def reads_of(table: str, seen: list[str]) -> int:
    return sum(1 for s in seen if s.lstrip().startswith("SELECT") and f"FROM {table}" in s)


async def learn_currency(app: App, owner_id: int) -> None:
    """A purchase has named the account's currency (the buying code writes it)."""
    async with app.db() as session:
        repo = AccountRepo(session, app.keybox)
        account = await repo.current(owner_id)
        assert account is not None
        assert account.id is not None
        await repo.learn_currency(account.id, 643)


async def test_a_second_balance_reads_neither_the_user_nor_the_account(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await learn_currency(app, alice_with_key.user.id)
    await chat.send("/balance")
    await chat.wait_for("Balance: 100.00")
    with statements(app) as seen:
        await chat.send("/balance")
        await chat.wait_for("Balance: 100.00")
    assert reads_of("users", seen) == 0
    assert reads_of("accounts", seen) == 0


async def test_a_currency_learnt_elsewhere_shows_in_the_next_balance(
        app: App, alice_with_key: Person) -> None:
    """The buying code learns an account's currency by itself, not through the service
    that keeps accounts: the write to `accounts` is seen all the same."""
    chat = alice_with_key.chat
    await chat.send("/balance")
    reply = await chat.wait_for("Balance: 100.00")  # kept, currency not known yet
    assert "₽" not in reply.text
    await learn_currency(app, alice_with_key.user.id)
    await chat.send("/balance")
    await chat.wait_for("Balance: 100.00 ₽")


async def test_a_new_language_answers_the_very_next_message(app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/help")
    await chat.wait_for("/buy")  # the user's row is now kept, in English
    await chat.send("/settings")
    await chat.wait_for("Settings")
    await chat.press("Language")
    await chat.wait_for("Choose the language")
    await chat.press("Русский")
    await chat.wait_for("Настройки")
    await chat.send("/settings")
    menu = await chat.wait_for("Настройки")
    assert "Язык: Русский" in menu.text


async def test_a_replaced_key_shows_in_the_next_balance(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.add_account(OTHER_KEY, balance=50.0)
    await learn_currency(app, alice_with_key.user.id)
    await chat.send("/balance")
    await chat.wait_for("Balance: 100.00")  # the account is now kept
    await chat.send(f"/key {OTHER_KEY}")
    await chat.wait_for("Balance: 50.00")
    await chat.send("/balance")
    reply = await chat.wait_for("Balance: 50.00")
    assert "oth…WVU" in reply.text


async def test_a_removed_key_is_gone_from_the_next_balance(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await learn_currency(app, alice_with_key.user.id)
    await chat.send("/balance")
    await chat.wait_for("Balance: 100.00")
    await chat.send("/key")
    await chat.wait_for("Your API key")
    await chat.press("Remove")
    await chat.wait_for("Remove the key")
    await chat.press("Yes, remove")
    await chat.wait_for("Key removed")
    await chat.send("/balance")
    await chat.wait_for("no KoalaSMS API key")
    await chat.send("/buy")
    await chat.wait_for("API key")  # asked for a key, not shown a menu paid by the old one


async def test_many_people_at_once_leave_no_connection_checked_out(
        app: App, tg: TelegramEmulator) -> None:
    """Every session gives its connection back (a leak would exhaust the pool)."""
    people = [tg.private_chat(tg.add_user(first_name=f"P{i}")) for i in range(30)]
    for chat in people:
        await chat.send(f"/key {DEMO_KEY}")
    await asyncio.gather(*(c.wait_for("100.00", timeout=60) for c in people))
    for chat in people:
        await chat.send("/buy")
    await asyncio.gather(*(c.wait_for("", timeout=60) for c in people))
    # The answers' bookkeeping and poll ticks hold connections for a moment; a leaked
    # session would hold one for good.
    pool: Any = app.engine.pool
    for _ in range(int(within(app) / 0.05)):
        if pool.checkedout() == 0:
            break
        await asyncio.sleep(0.05)
    assert pool.checkedout() == 0


async def test_no_filter_is_left_to_a_thread(app: App) -> None:
    """aiogram runs a sync filter through asyncio.to_thread; ours all run on the loop."""
    sync = [(router.name, f.callback) for router in _routers(app.dp)
            for observer in router.observers.values() for handler in observer.handlers
            for f in [handler, *(handler.filters or [])] if not f.awaitable]
    assert sync == []


def test_keyboards_export_as_aiogram_does_without_sharing_rows() -> None:
    ours, theirs = InlineKeyboardBuilder(), AiogramBuilder()
    for builder in (ours, theirs):
        for i in range(5):
            builder.button(text=f"b{i}", callback_data=f"d{i}")
        builder.adjust(2)
    assert ours.as_markup() == theirs.as_markup()
    markup = ours.as_markup()
    ours.add(InlineKeyboardButton(text="later", callback_data="x"))
    assert markup == theirs.as_markup()  # a markup taken earlier does not change


def test_a_reader_that_started_before_a_change_does_not_put_the_old_row_back() -> None:
    now = [0.0]
    kept: Snapshots[int, str] = Snapshots(ttl=10, clock=lambda: now[0])
    version = kept.version(1)  # a reader starts
    kept.forget(1)  # a writer changes the row meanwhile
    kept.put(1, "old", version)
    assert kept.get(1) is None
    kept.put(1, "new", kept.version(1))
    assert kept.get(1) == "new"
    now[0] = 11.0
    assert kept.get(1) is None  # past its ttl


def test_the_oldest_entry_makes_room() -> None:
    kept: Snapshots[int, int] = Snapshots(max_entries=2)
    for key in (1, 2, 3):
        kept.put(key, key, kept.version(key))
    assert (kept.get(1), kept.get(2), kept.get(3)) == (None, 2, 3)


def test_rows_of_people_gone_quiet_are_dropped_once_their_time_is_up() -> None:
    now = [0.0]
    kept: Snapshots[int, int] = Snapshots(ttl=10, clock=lambda: now[0])
    for key in range(100):  # a burst of people, then silence
        kept.put(key, key, kept.version(key))
    now[0] = 5.0
    kept.put(100, 100, kept.version(100))
    now[0] = 12.0  # the burst's rows expired; the later one has not
    kept.put(101, 101, kept.version(101))
    assert len(kept._values) == 2
    assert (kept.get(100), kept.get(101)) == (100, 101)


def test_several_instances_keep_nothing() -> None:
    lookups = Lookups.for_instances(several=True)
    for kept in (lookups.users, lookups.accounts, lookups.menus):
        kept.put(1, object(), kept.version(1))  # type: ignore[arg-type]
        assert kept.get(1) is None


@needs_postgres
async def test_on_postgresql_a_key_removed_by_another_instance_is_not_used(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, alice: Person,
        pg_database: str) -> None:  # noqa: F811 (the fixture imported above)
    """Several instances may share PostgreSQL: a key one of them removed must not pay on
    another, so there the rows are read on every update."""
    app = await build_app(make_settings(tmp_path, provider, tg, DATABASE_URL=pg_database),
                          koala_timeout=3.0)
    other = create_engine(pg_database)  # stands for another instance
    try:
        async with running(app, polling_timeout=1):
            await alice.chat.send(f"/key {DEMO_KEY}")
            await alice.chat.wait_for("100.00")
            await learn_currency(app, alice.user.id)
            await alice.chat.send("/balance")
            await alice.chat.wait_for("Balance: 100.00")
            async with session_factory(other)() as session:
                assert await AccountRepo(session, app.keybox).remove(alice.user.id)
            await alice.chat.send("/balance")
            await alice.chat.wait_for("no KoalaSMS API key")
    finally:
        await other.dispose()
        await close_app(app)


@needs_postgres
async def test_on_postgresql_a_menu_is_written_before_it_shows(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, alice: Person,
        pg_database: str, monkeypatch: Any) -> None:  # noqa: F811 (the fixture)
    """With several instances nothing is kept: the person's next update may reach another
    instance, which reads the row, so the screen waits for its menu's write (one instance
    keeps the menu in memory and writes it meanwhile)."""
    from storage.repos.users import UserRepo

    app = await build_app(make_settings(tmp_path, provider, tg, DATABASE_URL=pg_database),
                          koala_timeout=3.0)
    chat = alice.chat
    on_screen: list[str] = []
    original = UserRepo.set_menus

    async def noted(self: UserRepo, menus: Any) -> None:
        await asyncio.sleep(0.2)  # room for the screen to change, were it not waiting
        on_screen.append(chat.message(menu.message_id).text)  # type: ignore[union-attr]
        await original(self, menus)

    try:
        async with running(app, polling_timeout=1):
            await chat.send(f"/key {DEMO_KEY}")
            await chat.wait_for("100.00")
            await chat.send("/buy")
            menu = await chat.wait_for("Choose a service")
            monkeypatch.setattr(UserRepo, "set_menus", noted)
            await chat.press("Telegram")
            await chat.wait_for("Choose a country")
            assert on_screen
            assert not any("Choose a country" in text for text in on_screen)
    finally:
        await close_app(app)


class Empty:
    message_id = None


def reads_of_menu_entries(seen: list[str]) -> int:
    """The service menu's favourites and recently bought services."""
    return sum(1 for s in seen if "FROM favourites" in s or "GROUP BY activations.service" in s)


async def test_a_second_buy_reads_neither_entries_nor_the_user(
        app: App, alice_with_key: Person) -> None:
    """/buy writes the open menu; the kept user row takes the new menu instead of being
    dropped, and the menu's favourites and recent services are kept."""
    chat = alice_with_key.chat
    await chat.send("/buy")
    first = await chat.wait_for("Choose a service")
    lookups = app.dp["accounts"].lookups
    # The menu is written after it is shown, and its row kept once the write has ended.
    await until(lambda: (lookups.menus.get(chat.id) or Empty).message_id == first.message_id,
                "the menu written")
    kept = lookups.users.get(chat.id)
    assert kept is not None  # with the new menu, not dropped by the write
    assert kept.menu_message_id == first.message_id
    with statements(app) as seen:
        await chat.send("/buy")
        second = await chat.wait_for(lambda m: "Choose a service" in m.text
                                     and m.message_id > first.message_id)
        # The menu is written after it is shown, and updates run concurrently: without
        # this wait the block could end (with /balance answered) before the write.
        await until(lambda: (lookups.menus.get(chat.id) or Empty).message_id
                    == second.message_id, "the second menu kept")
        await app.dp["catalogue"].menus.drain()  # and written
        await chat.send("/balance")
        await chat.wait_for("Balance: 100.00")
    assert reads_of_menu_entries(seen) == 0
    assert reads_of("users", seen) == 0
    assert sum(1 for s in seen if s.lstrip().startswith("UPDATE users")) == 1  # the menu


async def test_a_purchase_written_anywhere_shows_in_the_next_buy(
        app: App, alice_with_key: Person) -> None:
    """Recent services are kept; an activation written by any code of this process (here
    straight through the repository, as the buying code and the adoption of a lost
    purchase do) drops them."""
    chat = alice_with_key.chat
    await chat.send("/buy")
    menu = await chat.wait_for("Choose a service")
    assert menu.buttons[0][0] == "Telegram"  # nothing bought yet: the popular ones
    await add_history(app, alice_with_key, 2)  # Telegram, then WhatsApp
    await chat.send("/buy")
    menu = await chat.wait_for(lambda m: "Choose a service" in m.text
                               and m.message_id > menu.message_id)
    assert [b for row in menu.buttons for b in row][:2] == ["🕘 WhatsApp", "🕘 Telegram"]


async def test_a_change_to_the_user_during_a_menu_write_is_not_undone(
        app: App, alice: Person, monkeypatch: Any) -> None:
    """The menu write puts the kept user with the new menu before it writes; a change of the
    row by anyone else meanwhile (its `forget`) wins: the kept copy is dropped."""
    from storage.repos.users import UserRepo

    chat = alice.chat
    await chat.send("/help")
    await chat.wait_for("/buy")  # the user's row is kept
    store = app.dp["catalogue"].menus
    people = store.lookups.users
    writing, go_on = asyncio.Event(), asyncio.Event()
    original = UserRepo.set_menus

    async def slow_set_menus(self: UserRepo, *args: Any) -> None:
        writing.set()
        await go_on.wait()
        await original(self, *args)

    monkeypatch.setattr(UserRepo, "set_menus", slow_set_menus)
    user_id = alice.user.id
    task = asyncio.create_task(store.set(user_id, 4242, "services"))
    await writing.wait()
    kept = people.get(user_id)
    assert kept is not None
    assert kept.menu_message_id == 4242
    go_on.set()
    await task
    kept = people.get(user_id)
    assert kept is not None
    assert kept.menu_message_id == 4242

    go_on.clear()
    writing.clear()
    task = asyncio.create_task(store.set(user_id, 4343, "services"))
    await writing.wait()
    people.forget(user_id)  # e.g. SettingsService changing the language now
    go_on.set()
    await task
    assert people.get(user_id) is None  # read again next time, with both changes
    assert (await app.dp["accounts"].user(user_id)).menu_message_id == 4343


async def test_a_country_menu_reads_no_rows(app: App, alice_with_key: Person) -> None:
    """The country menu takes the default country and the favourites from the kept rows,
    as the service menu does (it read the user's row and the favourites on every press)."""
    chat = alice_with_key.chat
    await open_countries(chat)
    await chat.press("Russia")
    await chat.wait_for("Several suppliers")
    with statements(app) as seen:
        await chat.press("« Countries")
        await chat.wait_for("Choose a country")
    assert reads_of("users", seen) == 0
    assert reads_of("favourites", seen) == 0


async def test_menus_written_at_once_share_a_statement_and_a_commit(
        app: App, alice: Person, monkeypatch: Any) -> None:
    """Group commit: while one menu is written, the menus of everyone else who comes
    meanwhile wait and go together in the next statement; each `set` returns once its
    own menu is committed."""
    from storage.repos.users import UserRepo

    store = app.dp["catalogue"].menus
    people = [alice.user.id + n for n in range(5)]
    for person in people:
        await app.dp["accounts"].user(person)  # their rows exist
    writes: list[dict[int, Any]] = []
    original = UserRepo.set_menus

    async def noted(self: UserRepo, menus: Any) -> None:
        writes.append(dict(menus))
        await original(self, menus)

    monkeypatch.setattr(UserRepo, "set_menus", noted)
    with statements(app) as seen:
        await asyncio.gather(*(store.set(person, 1000 + n, "s")
                               for n, person in enumerate(people)))
    assert [sorted(w) for w in writes] == [people[:1], people[1:]]
    assert sum(1 for s in seen if s.lstrip().startswith("UPDATE users")) == 2
    store.lookups.menus.forget_all()
    for n, person in enumerate(people):
        assert (await store.get(person)).message_id == 1000 + n  # read from the rows


async def test_menus_one_after_another_stay_kept(app: App, alice: Person) -> None:
    """A person pressing on while the previous menu is still being written: the first
    write ending does not drop what the second put in memory (no row read after)."""
    store = app.dp["catalogue"].menus
    person = alice.user.id
    await app.dp["accounts"].user(person)
    first = store.begin(person, 501, "s")
    second = store.begin(person, 502, "o")
    await asyncio.gather(first, second)
    with statements(app) as seen:
        row = await store.get(person)
        kept = await app.dp["accounts"].user(person)
    assert (row.message_id, row.kind, kept.menu_message_id) == (502, "o", 502)
    assert reads_of("users", seen) == 0


async def test_a_press_skips_the_areas_that_cannot_take_it(
        app: App, alice_with_key: Person, monkeypatch: Any) -> None:
    """A press for the buy menus is not offered to the handlers of settings, keys,
    history... (their filters were all checked first), nor a /balance to the buy area's."""
    from aiogram.dispatcher.event.handler import HandlerObject

    owners = {id(h): router.name for router in _routers(app.dp)
              for o in router.observers.values() for h in o.handlers}
    checked: list[str] = []
    original = HandlerObject.check

    async def noted(self: HandlerObject, *args: Any, **kwargs: Any) -> Any:
        if id(self) in owners:
            checked.append(owners[id(self)])
        return await original(self, *args, **kwargs)

    chat = alice_with_key.chat
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    monkeypatch.setattr(HandlerObject, "check", noted)
    await chat.press("Telegram")
    await chat.wait_for("Choose a country")
    assert "buy_services" in checked
    assert not {"keys", "settings", "history", "activations", "buy_countries"} & set(checked)
    checked.clear()
    await chat.send("/balance")
    await chat.wait_for("Balance")
    monkeypatch.undo()
    assert "keys" in checked
    assert not {"start", "settings", "history", "buy_services", "group_rules"} & set(checked)


def test_only_writes_that_change_menu_entries_drop_them() -> None:
    assert changes_entries("INSERT INTO activations (provider_id, service) VALUES (?, ?)")
    assert changes_entries("DELETE FROM favourites WHERE favourites.user_id = ?")
    assert changes_entries("INSERT INTO favourites (user_id, service) VALUES (?, ?)")
    assert changes_entries("UPDATE activations SET buyer_id=? WHERE activations.id = ?")
    # The poller's status updates, every few seconds, do not.
    assert not changes_entries(
        "UPDATE activations SET state=?, finished_at=? WHERE activations.id = ?")
    assert not changes_entries("SELECT activations.service FROM activations")
