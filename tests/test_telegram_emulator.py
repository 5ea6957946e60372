"""The Telegram emulator driven by a real aiogram Bot + Dispatcher over HTTP."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.sandbox.telegram import TelegramEmulator

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-token"


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


def make_bot(url: str, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    assert emu.url is not None
    tg = make_bot(emu.url)
    yield tg
    await tg.session.close()


@asynccontextmanager
async def polling(emu: TelegramEmulator, bot: Bot, *routers: Router) -> AsyncIterator[None]:
    dp = Dispatcher()
    dp.include_routers(*routers)
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    await emu.wait_request("getUpdates", timeout=2)
    try:
        yield
    finally:
        await dp.stop_polling()
        await task


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


async def test_message_handler_answers(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.reply("Hello, <b>Alice</b> &amp; co!", reply_markup=keyboard(("Buy", "buy")))

    chat = emu.private_chat(emu.add_user(first_name="Alice"))
    async with polling(emu, bot, router):
        sent = await chat.send("/start")
        reply = await chat.wait_for("Hello")

    assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert reply.text == "Hello, Alice & co!"
    assert reply.html == "Hello, <b>Alice</b> &amp; co!"
    assert reply.entities == [{"type": "bold", "offset": 7, "length": 5}]
    assert reply.reply_to == sent.message_id
    assert reply.message_id == sent.message_id + 1  # per-chat counter shared with the user
    assert reply.buttons == [["Buy"]]
    assert chat.last is reply
    assert emu.count("sendMessage") == 1
    assert "[#2] bot (reply to #1): Hello, Alice & co!" in chat.transcript()


async def test_button_press_reaches_callback_handler(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Pick one", reply_markup=keyboard(("✅ Confirm", "ok"), ("No", "no")))

    @router.callback_query(F.data == "ok")
    async def confirm(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Confirmed")
        await query.answer("Done!", show_alert=True)

    chat = emu.private_chat(emu.add_user())
    async with polling(emu, bot, router):
        await chat.send("/start")
        menu = await chat.wait_for("Pick one")
        result = await chat.press("confirm")
        edited = await chat.wait_for("Confirmed")
        with pytest.raises(AssertionError, match=r"available: \[\]"):
            await chat.press("No")  # the edit removed the keyboard

    assert (result.text, result.show_alert, result.data) == ("Done!", True, "ok")
    assert edited is menu
    assert edited.buttons == []
    assert [e.text for e in edited.edits] == ["Pick one"]


async def test_edit_semantics(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    user_msg = await chat.send("hi")
    sent = await bot.send_message(chat.id, "Menu", reply_markup=keyboard(("A", "a")))
    msg = chat.last

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Menu",
            chat_id=chat.id,
            message_id=sent.message_id,
            reply_markup=keyboard(("A", "a")),
        )
    # Same text but no markup is a change: the keyboard goes away.
    await bot.edit_message_text(text="Menu", chat_id=chat.id, message_id=sent.message_id)
    assert msg.buttons == []
    assert len(msg.edits) == 1
    assert msg.edits[0].reply_markup is not None

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=chat.id, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=chat.id, message_id=sent.message_id, reply_markup=keyboard(("B", "b"))
    )
    assert msg.buttons == [["B"]]

    for missing in (999, user_msg.message_id):
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text(text="x", chat_id=chat.id, message_id=missing)


async def test_delete(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    user_msg = await chat.send("secret")
    sent = await bot.send_message(chat.id, "bye")

    assert await bot.delete_message(chat.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(chat.id, sent.message_id)
    assert await bot.delete_message(chat.id, user_msg.message_id)  # allowed in private chats

    assert all(m.deleted for m in chat.messages)
    assert chat.bot_messages == []
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=chat.id, message_id=sent.message_id)


async def test_send_document(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    sent = await bot.send_document(
        chat.id, BufferedInputFile(b"id;code\n1;42\n", "export.csv"), caption="<i>Export</i>"
    )

    doc = chat.last.document
    assert doc is not None
    assert (doc.filename, doc.data) == ("export.csv", b"id;code\n1;42\n")
    assert chat.last.text == "Export"
    assert sent.document is not None
    assert sent.document.file_name == "export.csv"
    # Files are downloadable the way aiogram does it: getFile + /file/bot<token>/<path>.
    buffer = await bot.download(sent.document.file_id)
    assert isinstance(buffer, io.BytesIO)
    assert buffer.getvalue() == b"id;code\n1;42\n"


async def test_blocked_and_flood_map_to_aiogram_errors(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    chat.block()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(chat.id, "hello?")
    chat.unblock()

    emu.flood(chat.id, retry_after=2, count=1)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(chat.id, "spam")
    assert info.value.retry_after == 2
    await bot.send_message(chat.id, "after the flood")

    assert [m.text for m in chat.bot_messages] == ["after the flood"]
    assert [r.status for r in emu.calls("sendMessage")] == [403, 429, 200]


async def test_slow_chat_delays_sends(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    emu.slow(chat.id, 0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.send_message(chat.id, "slow")
    assert loop.time() - started >= 0.2


async def test_offset_confirmation(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    await chat.send("one")
    await chat.send("two")

    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first]
    assert await bot.get_updates(offset=first[-1].update_id + 1) == []
    assert await bot.get_updates() == []  # confirmed updates are gone for good


async def test_polling_delivers_each_update_once(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()
    seen: list[str] = []

    @router.message()
    async def echo(message: Message) -> None:
        seen.append(message.text or "")
        await message.answer(f"echo {message.text}")

    chat = emu.private_chat(emu.add_user())
    async with polling(emu, bot, router):
        for text in ("a", "b", "c"):
            await chat.send(text)
        await chat.wait_for("echo c")
        await chat.wait_idle(quiet=0.2)

    assert seen == ["a", "b", "c"]
    assert [m.text for m in chat.bot_messages] == ["echo a", "echo b", "echo c"]


async def test_long_poll_wakes_on_new_update(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emu.wait_request("getUpdates")
    await chat.send("wake up")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert loop.time() - started < 1


async def test_group_administrators_and_members(emu: TelegramEmulator, bot: Bot) -> None:
    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    carol, dave = emu.add_user(first_name="Carol"), emu.add_user(first_name="Dave")
    group = emu.add_group(title="Team", admins=[alice, bob], members=[carol])

    admins = await bot.get_chat_administrators(group.id)
    assert [(m.status, m.user.first_name) for m in admins] == [
        ("creator", "Alice"),
        ("administrator", "Bob"),
        ("administrator", "KoalaBot"),
    ]
    statuses = [(await bot.get_chat_member(group.id, u.id)).status for u in (carol, dave)]
    assert statuses == ["member", "left"]
    chat = await bot.get_chat(group.id)
    assert (chat.type, chat.title) == ("supergroup", "Team")
    assert group.id < 0

    message = await group.send("/start@koala_test_bot")
    assert message.sender["id"] == alice.id  # default sender: first admin

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(-100999)


async def test_validation_errors(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(chat.id, "<blink>hi</blink>")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag"):
        await bot.send_message(chat.id, "<b>hi")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(chat.id, "x", reply_markup=keyboard(("long", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(chat.id, "  ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(chat.id, "x" * 4097)
    copy = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Copy code", copy_text=CopyTextButton(text="12345"))],
            [InlineKeyboardButton(text="Site", url="https://example.com")],
        ]
    )
    await bot.send_message(chat.id, "ok", reply_markup=copy)
    assert chat.last.button("copy")["copy_text"] == {"text": "12345"}
    with pytest.raises(AssertionError, match="not a callback button"):
        await chat.press("Site")
    assert chat.bot_messages == [chat.last]


async def test_answer_callback_query_once(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()

    @router.callback_query()
    async def twice(query: CallbackQuery) -> None:
        await query.answer("first")
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await query.answer("second")
        await query.bot.send_message(query.from_user.id, "handled")  # type: ignore[union-attr]

    chat = emu.private_chat(emu.add_user())
    await bot.send_message(chat.id, "menu", reply_markup=keyboard(("Go", "go")))
    async with polling(emu, bot, router):
        result = await chat.press_data("forged", message_id=chat.last.message_id)
        await chat.wait_for("handled")
    assert (result.text, result.data) == ("first", "forged")


async def test_wait_for_timeout_shows_transcript(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user(first_name="Zoe"))
    await chat.send("anyone?")
    with pytest.raises(AssertionError, match=r"(?s)no bot message matched.*Zoe: anyone\?"):
        await chat.wait_for("reply", timeout=0.1)
    with pytest.raises(AssertionError, match="bot did not answer callback query"):
        await chat.press_data("x", message_id=1, timeout=0.1)


async def test_commands_scopes(emu: TelegramEmulator, bot: Bot) -> None:
    chat = emu.private_chat(emu.add_user())
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin")],
        scope=BotCommandScopeChat(chat_id=chat.id),
        language_code="ru",
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    scoped = await bot.get_my_commands(
        scope=BotCommandScopeChat(chat_id=chat.id), language_code="ru"
    )
    assert [c.command for c in scoped] == ["admin"]
    assert emu.commands({"type": "chat", "chat_id": chat.id}, "ru")[0]["command"] == "admin"
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_raw_http_json_unknown_method_and_token(emu: TelegramEmulator) -> None:
    assert emu.url is not None
    chat = emu.private_chat(emu.add_user())
    async with aiohttp.ClientSession() as http:
        body = {"chat_id": chat.id, "text": "json body", "reply_markup": {"inline_keyboard": []}}
        async with http.post(f"{emu.url}/bot1:x/sendMessage", json=body) as resp:
            assert (await resp.json())["result"]["text"] == "json body"
        async with http.post(
            f"{emu.url}/bot1:x/sendmessage", data={"chat_id": str(chat.id), "text": "form"}
        ) as resp:
            assert resp.status == 200
        async with http.post(f"{emu.url}/bot1:x/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [m.text for m in chat.bot_messages] == ["json body", "form"]

    strict = TelegramEmulator(token=TOKEN)
    url = await strict.start()
    wrong = make_bot(url, token="42:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()
        await strict.stop()
