"""The bot's requests to Telegram go as JSON bodies; files (the CSV export), dates and media
still go as aiogram's form data, and Telegram's refusals and bad answers raise the same
errors as before (bot/session.py)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramNetworkError
from aiogram.methods import (
    AnswerInlineQuery,
    BanChatMember,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputMediaVideo,
    InputTextMessageContent,
)
from aiohttp import web

from bot.app import App
from bot.sandbox.telegram import TelegramEmulator
from bot.session import BotSession
from tests.conftest import BOT_TOKEN, Person
from tests.test_e2e_settings_history import add_history


@pytest.fixture
async def json_bot(tg: TelegramEmulator) -> AsyncIterator[Bot]:
    """A bot with the app's session and defaults (HTML, no link previews)."""
    assert tg.url is not None
    session = BotSession(api=TelegramAPIServer.from_base(tg.url))
    bot = Bot(BOT_TOKEN, session=session,
              default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))
    try:
        yield bot
    finally:
        await session.close()


async def test_menus_go_as_json_and_the_csv_as_a_file(app: App, alice_with_key: Person,
                                                      tg: TelegramEmulator) -> None:
    chat = alice_with_key.chat
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    sent = tg.calls("sendMessage", chat.id)[-1]
    # A form sends the keyboard as a JSON string inside the form; a JSON body as an object.
    assert isinstance(sent.params["reply_markup"], dict)
    assert sent.params["parse_mode"] == "HTML"  # the bot's defaults are still applied
    assert "disable_notification" not in sent.params  # a default of None is left out

    await add_history(app, alice_with_key, 3)
    await chat.send("/history")
    await chat.wait_for("History")
    await chat.press("CSV")
    document = await chat.wait_for(lambda m: m.document is not None)
    assert document.document is not None
    assert document.document.filename == "history.csv"
    assert document.document.data.decode("utf-8").startswith("date_utc,")
    upload = tg.calls("sendDocument", chat.id)[-1]
    attached = upload.params["document"]  # multipart, as before: "attach://<part>"
    assert attached.startswith("attach://")
    assert upload.params[attached.removeprefix("attach://")].filename == "history.csv"


async def test_refusals_keep_their_errors(json_bot: Bot, tg: TelegramEmulator) -> None:
    user = tg.add_user(first_name="Bob")
    chat = tg.private_chat(user)
    await chat.send("/start")  # the chat exists for the bot
    chat.refuse("Bad Request: message text is too long")
    with pytest.raises(TelegramBadRequest, match="message text is too long"):
        await json_bot.send_message(chat.id, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await json_bot.send_message(987654321, "nobody there")


async def test_bad_answers_and_no_answer_keep_their_errors(json_bot: Bot) -> None:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html>a proxy's error page</html>")

    server = web.Application()
    server.router.add_post("/{path:.*}", garbage)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    session = json_bot.session
    try:
        session.api = TelegramAPIServer.from_base(f"http://127.0.0.1:{port}")
        with pytest.raises(ClientDecodeError):
            await json_bot.send_message(1, "hello")
    finally:
        await runner.cleanup()
    # Nothing listens there any more.
    with pytest.raises(TelegramNetworkError):
        await json_bot.send_message(1, "hello")


async def test_what_json_cannot_say_goes_as_a_form(json_bot: Bot) -> None:
    session = json_bot.session
    assert isinstance(session, BotSession)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text="Telegram", callback_data="svc:tg")]])
    body = session.json_body(json_bot, SendMessage(chat_id=1, text="hi", reply_markup=keyboard))
    assert body is not None
    assert b'"reply_markup":{"inline_keyboard":[[{"text":"Telegram","callback_data":"svc:tg"}]]}' \
        in body
    # The form leaves an empty string out: so does the JSON body.
    body = session.json_body(json_bot, SendMessage(chat_id=1, text=""))
    assert body is not None
    assert b'"text"' not in body
    # Files, unix-time dates and media (a date one level down) keep aiogram's form.
    form_only: list[TelegramMethod[Any]] = [
        SendDocument(chat_id=1, document=BufferedInputFile(b"a,b\n", "x.csv")),
        BanChatMember(chat_id=1, user_id=2, until_date=datetime.timedelta(hours=1)),
        BanChatMember(chat_id=1, user_id=2,
                      until_date=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)),
        SendMediaGroup(chat_id=1, media=[InputMediaVideo(media="file-id")]),
    ]
    for method in form_only:
        assert session.json_body(json_bot, method) is None, method
    assert session.json_body(json_bot, BanChatMember(chat_id=1, user_id=2, until_date=5)) \
        == b'{"chat_id":1,"user_id":2,"until_date":5}'
    # A default one level down that resolves to a value is written; one that is None (the
    # form leaves it out) sends the whole method as a form.
    inline = AnswerInlineQuery(inline_query_id="1", results=[InlineQueryResultArticle(
        id="1", title="t", input_message_content=InputTextMessageContent(message_text="x"))])
    body = session.json_body(json_bot, inline)
    assert body is not None
    assert b'"parse_mode":"HTML"' in body
    bare = Bot(BOT_TOKEN, session=session)  # no defaults: parse_mode resolves to None
    assert session.json_body(bare, inline) is None


async def test_a_sent_message_comes_back_without_its_echoed_keyboard(
        json_bot: Bot, tg: TelegramEmulator) -> None:
    """What the bot has just sent is not validated again into objects: the message comes
    back with its id, chat and text, without the keyboard and the entities."""
    user = tg.add_user(first_name="Bob")
    chat = tg.private_chat(user)
    await chat.send("/start")
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="One", callback_data="x:1")]])
    sent = await json_bot.send_message(chat.id, "<b>Pick</b> one", reply_markup=markup)
    assert (sent.message_id, sent.chat.id, sent.text) == (chat.last.message_id, chat.id,
                                                         "Pick one")
    assert sent.reply_markup is None
    assert sent.entities is None
    assert chat.last.buttons == [["One"]]  # Telegram has it all the same
    edited = await json_bot.edit_message_text("Picked", chat_id=chat.id,
                                              message_id=sent.message_id, reply_markup=markup)
    assert not isinstance(edited, bool)
    assert edited.text == "Picked"
    assert edited.reply_markup is None
    me = await json_bot.get_me()  # other answers are whole
    assert me.username
