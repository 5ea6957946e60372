"""A person starts the bot, sets, replaces and removes their key, and checks the balance."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from bot.ui.callbacks import KeyCb, ServiceAction, ServiceCb
from storage.models import Account
from storage.repo import AccountRepo
from tests.conftest import DEMO_KEY, Person

OTHER_KEY = "otherKEY9876543210zyxwvuZYXWVU"
BAD_KEY = "wrongKEY0000111122223333abcd"


async def current_account(app: App, owner_id: int) -> Account | None:
    async with app.db() as session:
        return await AccountRepo(session, app.keybox).current(owner_id)


def db_bytes(tmp_path: Path) -> bytes:
    """Everything SQLite wrote: the database and any journal beside it."""
    return b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*"))


async def test_first_start_offers_to_set_a_key(app: App, alice: Person) -> None:
    await alice.chat.send("/start")
    reply = await alice.chat.wait_for("KoalaSMS")
    assert "Hi" in reply.text
    assert reply.find_button("Set API key") is not None

    await alice.chat.press("Set API key")
    prompt = await alice.chat.wait_for("Send me your KoalaSMS API key")
    assert prompt.find_button("Cancel") is not None


async def test_good_key_is_stored_encrypted_and_its_message_deleted(
        app: App, alice: Person, tmp_path: Path) -> None:
    await alice.chat.send("/key")
    await alice.chat.wait_for("Send me your KoalaSMS API key")
    sent = await alice.chat.send(DEMO_KEY)
    reply = await alice.chat.wait_for("Balance: 100.00")

    assert sent.deleted
    assert "dem…DEF" in reply.text
    assert all(DEMO_KEY not in m.text for m in alice.chat.messages if m.from_bot)
    assert reply.find_button("Buy a number") is not None
    account = await current_account(app, alice.user.id)
    assert account is not None
    assert account.linked_by == alice.user.id
    assert app.keybox.decrypt(account.key_encrypted) == DEMO_KEY
    raw = db_bytes(tmp_path)
    assert raw
    assert DEMO_KEY.encode() not in raw
    # The prompt's Cancel button went away with the question.
    prompt = next(m for m in alice.chat.bot_messages if "Send me your" in m.text)
    assert prompt.buttons == []


async def test_bad_key_is_refused_and_nothing_stored(app: App, alice: Person,
                                                     tmp_path: Path) -> None:
    await alice.chat.send("/key")
    await alice.chat.wait_for("Send me your")
    sent = await alice.chat.send(BAD_KEY)
    await alice.chat.wait_for("does not accept this key")

    assert sent.deleted
    assert await current_account(app, alice.user.id) is None
    assert BAD_KEY.encode() not in db_bytes(tmp_path)

    # Still waiting for a key: the right one goes through.
    await alice.chat.send(DEMO_KEY)
    await alice.chat.wait_for("Balance: 100.00")


async def test_malformed_key_is_refused_without_asking_the_provider(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    sent = await alice.chat.send("/key not a key")
    await alice.chat.wait_for("does not look like an API key")
    assert sent.deleted
    sent = await alice.chat.send("short")
    await alice.chat.wait_for("does not look like an API key")
    assert provider.calls("getBalance") == 0
    assert await current_account(app, alice.user.id) is None


async def test_provider_down_while_checking_stores_nothing(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    provider.inject_faults("http500", count=3, actions={"getBalance"})
    sent = await alice.chat.send(f"/key {DEMO_KEY}")
    reply = await alice.chat.wait_for("can't check the key now")
    assert "Nothing was saved" in reply.text
    assert sent.deleted
    assert await current_account(app, alice.user.id) is None


async def test_direct_key_command(app: App, alice: Person) -> None:
    sent = await alice.chat.send(f"/key {DEMO_KEY}")
    await alice.chat.wait_for("Balance: 100.00")
    assert sent.deleted
    assert await current_account(app, alice.user.id) is not None


async def test_replace_key(app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.add_account(OTHER_KEY, balance=50.0)
    await chat.send("/key")
    menu = await chat.wait_for("Your API key")
    for label in ("Replace", "Remove", "Keep"):
        assert menu.find_button(label) is not None

    await chat.press("Replace")
    await chat.wait_for("Send me your KoalaSMS API key")
    sent = await chat.send(OTHER_KEY)
    reply = await chat.wait_for("Balance: 50.00")
    assert sent.deleted
    assert "oth…WVU" in reply.text
    account = await current_account(app, alice_with_key.user.id)
    assert account is not None
    assert app.keybox.decrypt(account.key_encrypted) == OTHER_KEY


async def test_keep_key(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/key")
    await chat.wait_for("Your API key")
    await chat.press("Keep")
    await chat.wait_for("Key kept")
    assert await current_account(app, alice_with_key.user.id) is not None


async def test_remove_key_after_confirmation(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/key")
    await chat.wait_for("Your API key")
    await chat.press("Remove")
    confirm = await chat.wait_for("Remove the key")
    assert await current_account(app, alice_with_key.user.id) is not None  # not yet
    assert confirm.find_button("Keep") is not None

    await chat.press("Yes, remove")
    done = await chat.wait_for("Key removed")
    assert done.find_button("Set API key") is not None
    assert await current_account(app, alice_with_key.user.id) is None

    await chat.send("/balance")
    reply = await chat.wait_for("no KoalaSMS API key")
    assert reply.find_button("Set API key") is not None


async def test_balance(app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.add_account(DEMO_KEY, balance=42.5)
    await chat.send("/balance")
    reply = await chat.wait_for("Balance: 42.50")
    assert "dem…DEF" in reply.text


async def test_balance_without_key(app: App, alice: Person) -> None:
    await alice.chat.send("/balance")
    reply = await alice.chat.wait_for("no KoalaSMS API key")
    assert reply.find_button("Set API key") is not None


async def test_balance_when_provider_is_down_offers_to_retry(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    chat = alice_with_key.chat
    provider.inject_faults("http500", count=3, actions={"getBalance"})
    await chat.send("/balance")
    reply = await chat.wait_for("not answering")
    assert reply.find_button("Try again") is not None

    await chat.press("Try again")
    await chat.wait_for("Balance: 100.00")


async def test_balance_with_a_key_the_provider_dropped(app: App, alice: Person) -> None:
    async with app.db() as session:
        await AccountRepo(session, app.keybox).set_key(alice.user.id, BAD_KEY,
                                                       linked_by=alice.user.id)
    await alice.chat.send("/balance")
    reply = await alice.chat.wait_for("does not accept your API key")
    assert "/key" in reply.text


async def test_cancel_outside_and_inside_the_key_question(app: App, alice: Person) -> None:
    await alice.chat.send("/cancel")
    await alice.chat.wait_for("Nothing to cancel")

    await alice.chat.send("/key")
    prompt = await alice.chat.wait_for("Send me your")
    await alice.chat.send("/cancel")
    await alice.chat.wait_for("Cancelled")
    assert prompt.buttons == []

    await alice.chat.send("/cancel")
    await alice.chat.wait_for("Nothing to cancel")


async def test_cancel_button_of_the_key_question(app: App, alice: Person) -> None:
    await alice.chat.send("/key")
    await alice.chat.wait_for("Send me your")
    await alice.chat.press("Cancel")
    await alice.chat.wait_for("Nothing was changed")
    await alice.chat.send("/cancel")
    await alice.chat.wait_for("Nothing to cancel")


async def test_another_command_while_asked_for_a_key(app: App, alice: Person) -> None:
    await alice.chat.send("/key")
    await alice.chat.wait_for("Send me your")
    await alice.chat.send("/settings")
    await alice.chat.wait_for("Settings")
    # No longer waiting for a key.
    await alice.chat.send("/cancel")
    await alice.chat.wait_for("Nothing to cancel")


async def test_key_pasted_without_command_is_taken_when_none_is_set(
        app: App, alice: Person) -> None:
    sent = await alice.chat.send(DEMO_KEY)
    await alice.chat.wait_for("Balance: 100.00")
    assert sent.deleted


async def test_forged_key_button_is_not_yours(app: App, alice_with_key: Person,
                                              tg: TelegramEmulator) -> None:
    chat = alice_with_key.chat
    mallory = tg.add_user(first_name="Mallory")
    data = KeyCb(action="remove_yes", owner=mallory.id).pack()
    result = await chat.press_data(data, chat.last.message_id)
    assert result.text == "This button is not yours."
    assert await current_account(app, alice_with_key.user.id) is not None


async def test_key_in_a_group_is_refused_and_deleted(app: App, tg: TelegramEmulator,
                                                     alice: Person) -> None:
    group = tg.add_group("Team", admins=[alice.user])
    sent = await group.send(f"/key {DEMO_KEY}")
    await group.wait_for("private chat")
    assert sent.deleted
    assert await current_account(app, group.id) is None

    pasted = await group.send(DEMO_KEY)
    await group.wait_for("looked like an API key")
    assert pasted.deleted

    normal = await group.send("hello team, meeting at 5")
    await group.wait_idle()
    assert not normal.deleted


async def test_start_deep_links(app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    sent = await chat.send(f"/start key_{OTHER_KEY}")
    await chat.wait_for("never take an API key from a link")
    assert sent.deleted
    account = await current_account(app, alice_with_key.user.id)
    assert account is not None
    assert account.key_hint == "dem…DEF"

    await chat.send("/start grp_-1001234567890")
    await chat.wait_for("Linking a group is not available yet")

    await chat.send("/start buy_tg")
    offer = await chat.wait_for("Buy a number for Telegram")
    button = offer.button("Buy Telegram")
    assert ServiceCb.unpack(button["callback_data"]) == ServiceCb(
        action=ServiceAction.PICK, owner=alice_with_key.user.id, svc="tg")


async def test_start_with_a_key_shows_the_balance_and_buy(app: App,
                                                         alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/start")
    reply = await chat.wait_for("Hi")
    assert "Balance: 100.00" in reply.text
    button = reply.button("Buy a number")
    assert ServiceCb.unpack(button["callback_data"]) == ServiceCb(
        action=ServiceAction.PAGE, owner=alice_with_key.user.id, page=0)


async def test_help(app: App, alice: Person) -> None:
    await alice.chat.send("/help")
    reply = await alice.chat.wait_for("How to use me")
    for command in ("/buy", "/active", "/balance", "/history", "/key", "/settings", "/cancel"):
        assert command in reply.text
    assert "Refunds" in reply.text


async def test_a_refused_key_never_reaches_the_logs(app: App, alice: Person,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await alice.chat.send(f"/key {BAD_KEY}")
    await alice.chat.wait_for("does not accept this key")
    await alice.chat.send(BAD_KEY)
    await alice.chat.wait_for("does not accept this key")
    await alice.chat.wait_idle()
    assert caplog.records  # logging was captured at all
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert BAD_KEY not in logged


async def test_unknown_button_data_is_answered_as_out_of_date(app: App, alice: Person) -> None:
    if not any(r.name == "fallback" for r in app.dp.sub_routers):
        pytest.skip("handlers/fallback.py is not registered in handlers/__init__.py yet")
    await alice.chat.send("/help")
    message = await alice.chat.wait_for("How to use me")
    result = await alice.chat.press_data("zz:no-such-menu", message.message_id)
    assert result.text is not None
    assert "out of date" in result.text
    # Not an action KeyCb knows (its actions are an Enum): forged data, packed by hand.
    result = await alice.chat.press_data(f"k:nonsense:{alice.user.id}",
                                         message.message_id)
    assert result.text is not None
    assert "out of date" in result.text


async def test_key_pasted_while_a_country_menu_waits_for_text_is_hidden(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    await chat.press("Telegram")
    await chat.wait_for("Choose a country")
    pasted = await chat.send("anotherKEY0123456789abcdef")
    await chat.wait_for("/key")
    assert chat.message(pasted.message_id).deleted  # type: ignore[union-attr]
    account = await current_account(app, alice_with_key.user.id)
    assert account is not None
    assert account.key_hint == "dem…DEF"
