"""aiogram's check_response asks for `Response[T]` on every call and pydantic keeps those
classes only weakly: a garbage collection used to free them, and the next answer from Telegram
rebuilt one (schema and validator, ~1 ms of CPU). The bot's session keeps them alive."""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetMe, Response, SendMessage
from aiogram.types import Message
from pydantic._internal import _generics

from bot.app import App
from bot.sandbox.telegram import TelegramEmulator
from bot.session import BotSession
from tests.conftest import BOT_TOKEN, Person


@pytest.fixture
def built_models(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Names of the parametrised pydantic models built while the test runs."""
    built: Counter[str] = Counter()
    original = _generics.set_cached_generic_type

    def counting(parent: Any, typevar_values: Any, type_: Any, *args: Any, **kw: Any) -> None:
        built[type_.__name__] += 1
        original(parent, typevar_values, type_, *args, **kw)

    monkeypatch.setattr(_generics, "set_cached_generic_type", counting)
    return built


def test_one_response_model_per_returning_type() -> None:
    session = BotSession()
    model = session.response_model(SendMessage.__returning__)
    gc.collect()
    assert session.response_model(SendMessage.__returning__) is model
    assert Response[Message] is model  # what aiogram's check_response gets: the same class
    assert session.response_model(GetMe.__returning__) is not model


async def test_answers_after_a_garbage_collection_build_no_model(
        app: App, alice_with_key: Person, built_models: Counter[str]) -> None:
    assert isinstance(app.bot.session, BotSession)
    chat = alice_with_key.chat
    await chat.send("/start")
    await chat.wait_for("KoalaSMS")
    gc.collect()  # would free every Response[...] nothing else holds
    built_models.clear()
    await chat.send("/balance")
    await chat.wait_for("100.00")
    assert not [name for name in built_models if name.startswith("Response[")]


async def test_a_request_after_the_bot_stopped_fails_and_opens_no_session(
        tg: TelegramEmulator) -> None:
    """A task that outlives the shutdown (a card edit, a late code) must not make aiogram
    open a fresh aiohttp session that nobody closes (pytest reports it as unraisable)."""
    assert tg.url is not None
    session = BotSession(api=TelegramAPIServer.from_base(tg.url))
    bot = Bot(BOT_TOKEN, session=session)
    assert (await bot.get_me()).is_bot
    await session.stop()
    with pytest.raises(TelegramNetworkError, match="stopping"):
        await bot.get_me()
    assert session._session is None or session._session.closed
