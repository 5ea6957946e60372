"""Hostile or unusual input from the chat side: non-text messages, forged buttons, long
texts and codes, a provider that hangs or leaks the key into its error texts."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import (
    MEDIA_KINDS,
    CallbackResult,
    EmuChat,
    EmuMessage,
    TelegramEmulator,
)
from storage.models import utcnow
from storage.repo import AccountRepo, CodeRepo
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.helpers import buy
from tests.helpers_time import ticks
from tests.test_backends import needs_postgres, pg_database  # noqa: F401  (a fixture)

WENT_WRONG = "Something went wrong"


def _went_wrong(chat: EmuChat) -> list[str]:
    return [m.text for m in chat.bot_messages if WENT_WRONG in m.text] + [
        c.text or "" for c in chat.callbacks if WENT_WRONG in (c.text or "")]


# --- non-text messages ------------------------------------------------------------------


async def test_every_non_text_message_gets_a_short_answer_in_private(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    for kind in MEDIA_KINDS:
        await chat.send_media(kind)
        reply = await chat.wait_for("I read text only")
        assert reply.reply_to is None or reply.reply_to
    await chat.send_document("notes.txt", b"hello")
    await chat.wait_for("I read text only")
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()
    answers = [m for m in chat.bot_messages if "I read text only" in m.text]
    assert len(answers) == len(MEDIA_KINDS) + 1


async def test_non_text_messages_in_a_group_are_left_alone_unless_addressed(
        app: App, tg: TelegramEmulator, alice: Person) -> None:
    bob = tg.add_user(first_name="Bob")
    group = tg.add_group(admins=[alice.user], members=[bob])
    for kind in MEDIA_KINDS:
        await group.send_media(kind, user=bob)
    await group.send_document("notes.txt", b"hello", user=bob)
    await group.wait_idle()
    assert group.bot_messages == [], group.transcript()
    # A sticker in reply to the bot is meant for it: a short answer, still no error.
    await group.send("/start", user=bob)
    hello = await group.wait_for("private chat")
    await group.send_media("sticker", user=bob, reply_to=hello.message_id)
    await group.wait_for("I read text only")
    await group.wait_idle()
    assert _went_wrong(group) == [], group.transcript()


# --- forged button data -------------------------------------------------------------------

HUGE_IDS = (2**31, 2**63, 2**64, int("9" * 50))


async def _press_forged(chat: EmuChat, data: str) -> str:
    """Press a button with forged data on the newest bot message; the toast's text."""
    result = await chat.press_data(data, chat.last.message_id)
    return result.text or ""


async def test_forged_huge_activation_ids_are_answered_not_found(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    for n in HUGE_IDS:
        for action in ("cancel", "another", "done", "again"):
            toast = await _press_forged(chat, f"a:{action}:{n}")
            assert "not in my records" in toast, (action, n, chat.transcript())
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()


async def test_forged_huge_numbers_in_menus_do_not_crash(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    me = alice_with_key.user.id
    for n in HUGE_IDS[1:]:
        for data in (f"h:page:{me}:{n}", f"c:pg:{me}:tg:{n}:p::", f"c:pk:{me}:tg:0:p:{n}:",
                     f"p:{me}:tg:0:{n}", f"b:s:{me}:tg:{n}::0", f"s:pg:{n}:0::",
                     f"k:balance:{n}", f"st:menu:{n}:"):
            await _press_forged(chat, data)
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()


# --- the provider's error texts -----------------------------------------------------------


async def test_an_error_text_quoting_the_key_is_neither_logged_nor_shown(
        app: App, alice_with_key: Person, provider: ProviderSandbox,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    chat = alice_with_key.chat
    provider.answer_with(
        "getBalance", json.dumps({"status": "error",
                                  "message": f"Key {DEMO_KEY} is suspended for abuse"}))
    await chat.send("/balance")
    shown = await chat.wait_for("suspended")
    assert DEMO_KEY not in shown.text
    assert DEMO_KEY not in (shown.html or "")
    # The confirm screen reads the balance too, and logs why it is missing.
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    await chat.press("Telegram")
    await chat.wait_for("Telegram")
    me = alice_with_key.user.id
    await chat.press_data(f"b:s:{me}:tg:0::0", chat.last.message_id)
    await chat.wait_for("Confirm the purchase")
    await chat.wait_idle()
    for message in chat.messages:
        if message.from_bot:
            assert DEMO_KEY not in message.text
            assert DEMO_KEY not in (message.html or "")
    assert DEMO_KEY not in caplog.text


async def test_a_long_refusal_fits_in_the_button_answer_without_the_key(
        app: App, alice_with_key: Person, provider: ProviderSandbox,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    chat = alice_with_key.chat
    a = await buy(app, alice_with_key)
    provider.advance(150)  # the cancel window is open
    app.manager.clock = lambda: utcnow() + timedelta(seconds=150)
    reason = f"Cancel refused for key {DEMO_KEY}: " + "the operator is busy. " * 15
    provider.answer_with("setStatus", json.dumps({"status": "error", "message": reason}))
    card = chat.message(a.card_message_id or 0)
    assert card is not None
    toast = await chat.press("Cancel", message=card)
    assert toast.text, chat.transcript()
    assert "KoalaSMS refused" in toast.text, chat.transcript()
    assert len(toast.text) <= 200
    assert "Nothing changed" in toast.text
    assert DEMO_KEY not in toast.text
    assert DEMO_KEY not in caplog.text
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()
    assert all(len(c.text or "") <= 200 for c in chat.callbacks)


# --- long codes and long SMS --------------------------------------------------------------

LONG_CODE = "https://t.example/verify?token=" + "Ab3" * 16 + "-end"  # 82 characters


def _code_messages(chat: EmuChat) -> list[EmuMessage]:
    return [m for m in chat.bot_messages if m.text.startswith("🔑")]


async def _long_code_is_delivered_once(app: App, person: Person,
                                       provider: ProviderSandbox) -> None:
    chat = person.chat
    a = await buy(app, person)
    provider.deliver_sms(a.provider_id, LONG_CODE, f"Open {LONG_CODE} to sign in")
    message = await chat.wait_for(lambda m: m.text.startswith("🔑"), timeout=10)
    assert LONG_CODE in message.text
    assert message.button("Copy code")["copy_text"]["text"] == LONG_CODE
    await ticks(app, 5, timeout=20)
    await chat.wait_idle()
    assert len(_code_messages(chat)) == 1, chat.transcript()
    async with app.db() as session:
        codes = await CodeRepo(session).for_activation(a.id or 0)
    assert [(c.code, c.delivered) for c in codes] == [(LONG_CODE, True)]
    await chat.send("/history")
    await chat.wait_for("History")


async def test_a_long_code_is_delivered_once_on_sqlite(
        app: App, alice_with_key: Person, provider: ProviderSandbox) -> None:
    await _long_code_is_delivered_once(app, alice_with_key, provider)


@needs_postgres
async def test_a_long_code_is_delivered_once_on_postgresql(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, alice: Person,
        pg_database: str) -> None:  # noqa: F811  (the fixture imported above)
    app = await build_app(make_settings(tmp_path, provider, tg, DATABASE_URL=pg_database),
                          koala_timeout=3.0, koala_backoff=0.01, reconcile_delay=0.05)
    try:
        async with running(app, polling_timeout=1):
            await alice.chat.send(f"/key {DEMO_KEY}")
            await alice.chat.wait_for("100.00")
            await _long_code_is_delivered_once(app, alice, provider)
    finally:
        await close_app(app)


async def test_an_sms_too_long_for_a_message_comes_cut_with_the_whole_as_a_file(
        app: App, alice_with_key: Person, provider: ProviderSandbox,
        tg: TelegramEmulator) -> None:
    chat = alice_with_key.chat
    sms = "Your code is 481516. " + "Ignore this long legal notice & <terms>. " * 110
    assert len(sms) > 4500
    a = await buy(app, alice_with_key)
    # Some providers give the whole SMS as the "code" when they cannot find one in it.
    provider.deliver_sms(a.provider_id, sms.strip(), sms)
    message = await chat.wait_for(lambda m: m.text.startswith("🔑"), timeout=10)
    assert len(message.text) <= 4096
    assert "whole of it is in the file below" in message.text
    document = await chat.wait_for(lambda m: m.document is not None, timeout=10)
    assert document.document is not None
    assert document.document.data.decode("utf-8") == sms.strip()
    assert document.reply_to == message.message_id
    # The card is edited behind the code (the code goes first), then offers another one.
    await chat.wait_for(lambda m: m.message_id == a.card_message_id
                        and m.find_button("Another code") is not None, timeout=10)
    # A second SMS: a short code with a long text.
    await chat.press("Another code", message=chat.message(a.card_message_id or 0))
    provider.deliver_sms(a.provider_id, "271828", sms)
    second = await chat.wait_for(lambda m: m.text.startswith("🔑") and "271828" in m.text,
                                 timeout=10)
    assert len(second.text) <= 4096
    assert "file below" in second.text
    await chat.wait_for(lambda m: m.document is not None and m.reply_to == second.message_id,
                        timeout=10)
    await ticks(app, 5, timeout=20)
    await chat.wait_idle()
    assert len(_code_messages(chat)) == 2, chat.transcript()
    assert tg.count("sendDocument", chat.id) == 2
    await chat.send("/history")
    page = await chat.wait_for("History")
    assert "481516" in page.text
    assert len(page.text) <= 4096
    card = chat.message(a.card_message_id or 0)
    assert card is not None
    assert "271828" in card.text
    assert _went_wrong(chat) == [], chat.transcript()


async def test_a_code_message_telegram_refuses_is_not_sent_again_and_again(
        app: App, alice_with_key: Person, provider: ProviderSandbox,
        tg: TelegramEmulator) -> None:
    chat = alice_with_key.chat
    a = await buy(app, alice_with_key)
    # Telegram refuses the code message for good (here: its copy button).
    chat.refuse("Bad Request: COPY_TEXT_INVALID",
                when=lambda params: "copy_text" in json.dumps(params.get("reply_markup")))
    provider.deliver_sms(a.provider_id, "123456")
    bare = await chat.wait_for(lambda m: "123456" in m.text and m.text.startswith("🔑"),
                               timeout=10)
    assert bare.reply_markup is None
    refused = len([r for r in tg.calls("sendMessage", chat.id) if r.status == 400])
    assert refused == 1
    await ticks(app, 5, timeout=20)
    await chat.wait_idle()
    assert len([r for r in tg.calls("sendMessage", chat.id) if r.status == 400]) == 1
    assert len(_code_messages(chat)) == 1, chat.transcript()
    async with app.db() as session:
        codes = await CodeRepo(session).for_activation(a.id or 0)
    assert [(c.code, c.delivered, c.message_id) for c in codes] == [
        ("123456", True, bare.message_id)]


# --- a hanging provider -------------------------------------------------------------------


async def test_screens_give_up_on_a_hanging_provider_and_offer_to_retry(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
        alice: Person) -> None:
    # The production time-out: three tries of it used to keep a screen silent ~49 s.
    app = await build_app(make_settings(tmp_path, provider, tg), koala_timeout=15.0,
                          koala_backoff=0.5, screen_budget=2.0)
    chat = alice.chat
    try:
        async with running(app, polling_timeout=1):
            await chat.send(f"/key {DEMO_KEY}")
            await chat.wait_for("100.00")
            provider.hold("getBalance", "getPricesV3", "getPrices")
            await chat.send("/balance")
            down = await chat.wait_for("not answering", timeout=20)
            assert down.find_button("Try again") is not None
            await chat.send("/buy")
            await chat.wait_for("Choose a service")
            await chat.press("Telegram")
            failed = await chat.wait_for(lambda m: m.find_button("Try again") is not None,
                                         timeout=20)
            assert "Telegram" not in failed.buttons[0][0]
            provider.release()
            await chat.press("Try again", message=failed)
            await chat.wait_for("Choose a country")
            await chat.press("Try again", message=down)
            await chat.wait_for("Balance: 100.00")
            await chat.wait_idle()
            assert _went_wrong(chat) == [], chat.transcript()
    finally:
        provider.release()
        await close_app(app)


# --- database connections ----------------------------------------------------------------


async def _wait(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_menus_waiting_on_a_hanging_provider_hold_no_database_connection(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
        alice: Person) -> None:
    # Two database connections in all: any handler holding one while it waits for the
    # provider would leave the others (and the code delivery) queueing for the pool.
    # More people than the client's 50 connections to the provider, too.
    app = await build_app(make_settings(tmp_path, provider, tg), koala_timeout=30.0,
                          koala_backoff=0.01, screen_budget=60.0,
                          engine_options={"pool_size": 2, "max_overflow": 0,
                                          "pool_timeout": 60})
    people = [Person(user, tg.private_chat(user))
              for user in (tg.add_user(first_name=f"User{i}") for i in range(55))]
    try:
        async with running(app, polling_timeout=1):
            for person in [alice, *people]:
                async with app.db() as session:
                    await AccountRepo(session, app.keybox).set_key(
                        person.user.id, DEMO_KEY, person.user.id)
            a = await buy(app, alice)
            provider.hold("getBalance")
            for person in people:
                await person.chat.send("/balance")
            # Fifty at once: every connection the client has for chats is taken.
            await _wait(lambda: provider.holding >= 50,
                        "the /balance requests to be waiting on the provider")
            provider.deliver_sms(a.provider_id, "654321")
            await alice.chat.wait_for(lambda m: m.text.startswith("🔑") and "654321" in m.text,
                                      timeout=20)
            # The code came while they were all still waiting for their balance.
            assert provider.holding >= 50
            assert all(p.chat.bot_messages == [] for p in people)
            provider.release()
            for person in people:
                await person.chat.wait_for("Balance:", timeout=20)
            for person in [alice, *people]:
                assert _went_wrong(person.chat) == [], person.chat.transcript()
    finally:
        provider.release()
        await close_app(app)


@needs_postgres
async def test_forged_ids_out_of_postgresql_integer_range_are_answered_not_found(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, alice: Person,
        pg_database: str) -> None:  # noqa: F811  (the fixture imported above)
    """2**31 is a valid id on SQLite but not in a PostgreSQL INTEGER column."""
    app = await build_app(make_settings(tmp_path, provider, tg, DATABASE_URL=pg_database),
                          koala_timeout=3.0, koala_backoff=0.01, reconcile_delay=0.05)
    chat = alice.chat
    try:
        async with running(app, polling_timeout=1):
            await chat.send(f"/key {DEMO_KEY}")
            await chat.wait_for("100.00")
            for n in HUGE_IDS:
                for action in ("cancel", "again"):
                    toast = await _press_forged(chat, f"a:{action}:{n}")
                    assert "not in my records" in toast, (action, n, chat.transcript())
            await chat.wait_idle()
            assert _went_wrong(chat) == [], chat.transcript()
    finally:
        await close_app(app)


async def test_any_button_answer_the_bot_makes_is_cut_to_telegrams_limit(
        app: App, tg: TelegramEmulator, alice: Person) -> None:
    """Cut in one place, the bot's session, whoever wrote the text."""
    result = CallbackResult(id="77", data="x", message_id=1, user_id=alice.user.id)
    tg.callbacks[result.id] = result
    assert await app.bot.answer_callback_query(result.id, text="Long reason. " * 40)
    assert result.answered
    assert result.text is not None
    assert len(result.text) <= 200
    assert result.text.startswith("Long reason.")
    assert result.text.endswith("…")
