"""Helpers shared by the end-to-end tests: buy a number straight through the manager,
put a key on file, read an activation back, wait long enough for a poll."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, TelegramEmulator
from storage.models import Activation
from storage.repo import AccountRepo, ActivationRepo
from tests.conftest import DEMO_KEY, Person, make_settings

PRICE = 22.0  # the cheapest "tg" number in country 0 of the demo catalogue
BALANCE = 100.0
BOB_KEY = "bobKEY9876543210zyxwvuZYXWVU"


def within(app: App) -> float:
    """How long to wait for what the poller brings: two poll intervals and slack for a
    loaded machine. Only ever a bound on a wait (the tests' point is that it arrives, not
    how fast: speed is measured by bench/, never asserted)."""
    return 2 * app.settings.POLL_INTERVAL + 10


def code_messages(chat: EmuChat, code: str | None = None) -> list[EmuMessage]:
    return [m for m in chat.bot_messages
            if m.text.startswith("🔑") and (code is None or f"Code: {code}" in m.text)]


def is_code(code: str):  # type: ignore[no-untyped-def]
    def check(m: EmuMessage) -> bool:
        return m.text.startswith("🔑") and f"Code: {code}" in m.text
    check.__name__ = f"code message {code}"
    return check


async def code_then_card(app: App, chat: EmuChat, code: str,
                         timeout: float | None = None) -> EmuMessage:
    """The code message, then its card edited to show it: the code goes out first (it is
    what the user waits for), the card right behind it in the chat's queue."""
    wait = timeout if timeout is not None else within(app)
    msg = await chat.wait_for(is_code(code), timeout=wait)
    card = msg.reply_to
    if card is not None:
        await chat.wait_for(lambda m: m.message_id == card and m.seq > msg.seq, timeout=wait)
    return msg


async def set_key(app: App, person: Person, key: str = DEMO_KEY) -> None:
    async with app.db() as session:
        await AccountRepo(session, app.keybox).set_key(person.user.id, key, person.user.id)


async def buy(app: App, person: Person, service: str = "tg", country: int = 0) -> Activation:
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(person.user.id)
    assert account is not None
    a = await app.manager.purchase(account=account, chat_id=person.chat.id,
                                   buyer_id=person.user.id, service=service,
                                   country=country, max_price=None)
    a = await app.manager.send_card(a)
    await person.chat.wait_for("Waiting for the SMS")
    return a


async def stored(app: App, a: Activation) -> Activation:
    async with app.db() as session:
        fresh = await ActivationRepo(session).get(a.id or 0)
    assert fresh is not None
    return fresh


async def until(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait until `check()` holds (an async check is awaited): a bound on the wait for
    something the bot brings about, never a measure of how fast it came."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def patient_bot(tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, *,
                      hold_requests: bool = False) -> AsyncIterator[App]:
    """The bot as the app fixture builds it, but with a client that waits as long as the
    test does. `hold_requests`: the poller's own budget per request too, so a request the
    provider holds stays out (and keeps its slot) until the provider lets it go."""
    application = await build_app(make_settings(tmp_path, provider, tg), koala_timeout=600.0,
                                  koala_backoff=0.01, reconcile_delay=0.05)
    if hold_requests:
        application.poller._request_budget = lambda: 600.0  # type: ignore[method-assign]
    try:
        async with running(application, polling_timeout=1):
            yield application
    finally:
        provider.release()
        await close_app(application)
