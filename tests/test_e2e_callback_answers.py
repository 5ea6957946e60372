"""Every button press gets one answer (CallbackAnswerMiddleware), and a press whose
handler fails is answered with what went wrong, not with an empty toast."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import App
from bot.sandbox.telegram import _Params
from bot.texts import Translator
from tests.conftest import Person


async def test_a_failing_press_is_answered_with_the_explanation(
        app: App, alice: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = alice.chat
    await chat.send("/settings")
    menu = await chat.wait_for("Favourites")

    async def broken(user_id: int) -> tuple[str, ...]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(app.dp["settings_service"], "favourites", broken)
    logging.getLogger("handlers.errors").disabled = True  # the failure is expected here
    try:
        result = await chat.press("Favourites", message=menu)
    finally:
        logging.getLogger("handlers.errors").disabled = False
    assert result.text == Translator("en")("common.error"), chat.transcript()
    assert result.show_alert


async def test_a_press_is_answered_once_with_its_toast(app: App, alice: Person) -> None:
    chat = alice.chat
    await chat.send("/settings")
    await chat.wait_for("Favourites")
    result = await chat.press("Language")
    assert result.answered
    assert result.text is None  # a plain press: the spinner stops, no toast
    result = await chat.press("Русский")
    assert result.answered
    await chat.wait_for("Язык")


async def test_the_next_screen_does_not_wait_for_the_answer(
        app: App, alice_with_key: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    """A press answered as its handler starts (the buy menus) is answered alongside the
    work: with Telegram slow to take the answer, the next screen comes first."""
    chat = alice_with_key.chat
    await chat.send("/buy")
    await chat.wait_for("Choose a service")
    emu = chat.emu
    name, answer = emu._methods["answercallbackquery"]

    async def slow_answer(p: _Params) -> bool:
        await asyncio.sleep(3)
        return bool(await answer(p))

    monkeypatch.setitem(emu._methods, "answercallbackquery", (name, slow_answer))
    press = asyncio.create_task(chat.press("Telegram", timeout=10))
    await chat.wait_for("Choose a country", timeout=2.5)
    assert not press.done()  # the answer is still on its way
    result = await press
    assert result.answered
    assert result.text is None
