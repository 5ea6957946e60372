"""The bot is killed (SIGKILL) while an activation runs and a code arrives meanwhile:
after a restart the code reaches the chat exactly once, and nothing is sent twice.

The bot runs as a real `python -m bot` process against the in-test emulators.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.activations import ActivationManager
from bot.app import make_bot
from bot.catalog import Catalog
from bot.koala import KoalaClient
from bot.notifier import Notifier
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, TelegramEmulator
from storage.crypto import KeyBox
from storage.db import create_engine, migrate, session_factory
from storage.models import Activation
from storage.repo import AccountRepo
from tests.conftest import BOT_TOKEN, DEMO_KEY, SECRET, make_settings

ROOT = Path(__file__).resolve().parent.parent


def code_messages(chat: EmuChat, code: str) -> list[EmuMessage]:
    return [m for m in chat.bot_messages if m.text.startswith("🔑") and f"Code: {code}" in m.text]


async def buy_while_bot_is_off(tmp_path: Path, provider: ProviderSandbox,
                               tg: TelegramEmulator, user_id: int, chat_id: int) -> Activation:
    """What /key and the buy flow leave behind: a key on file, a bought number, its card."""
    settings = make_settings(tmp_path, provider, tg)
    engine = create_engine(settings.DATABASE_URL)
    await migrate(engine)
    db = session_factory(engine)
    keybox = KeyBox(SECRET)
    koala = KoalaClient(settings.KOALA_API_URL, timeout=3.0)
    bot = make_bot(settings)
    manager = ActivationManager(db=db, keybox=keybox, koala=koala, catalog=Catalog(),
                                notifier=Notifier(bot))
    try:
        async with db() as session:
            account = await AccountRepo(session, keybox).set_key(user_id, DEMO_KEY, user_id)
        a = await manager.purchase(account=account, chat_id=chat_id, buyer_id=user_id,
                                   service="tg", country=0, max_price=None)
        return await manager.send_card(a)
    finally:
        await koala.close()
        await bot.session.close()
        await engine.dispose()


@asynccontextmanager
async def bot_process(tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
                      name: str) -> AsyncIterator[asyncio.subprocess.Process]:
    assert tg.url is not None  # the emulator is started
    env = {
        **os.environ,
        "BOT_TOKEN": BOT_TOKEN,
        "SECRET_KEY": SECRET,
        "KOALA_API_URL": f"{provider.base_url}/stubs/handler_api.php",
        "TELEGRAM_API_URL": tg.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "POLL_INTERVAL": "0.3",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / f"{name}.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=log, stderr=asyncio.subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        log.close()


def read_logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("*.log")))


async def wait_until(check, timeout: float, what: str, logs: Path) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout}s\n{read_logs(logs)}")
        await asyncio.sleep(0.05)


async def test_code_arriving_while_the_bot_is_down_is_delivered_once(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    user = tg.add_user(first_name="Alice", language_code="en")
    chat = tg.private_chat(user)
    a = await buy_while_bot_is_off(tmp_path, provider, tg, user.id, chat.id)
    assert a.card_message_id is not None

    async with bot_process(tmp_path, provider, tg, "first") as first:
        provider.deliver_sms(a.provider_id, "1111")
        await wait_until(lambda: code_messages(chat, "1111"), 60, "first code", tmp_path)
        # The code goes first, its card is edited right after (then it offers Another code).
        def card_offers_another() -> bool:
            card = chat.message(a.card_message_id or 0)
            return card is not None and card.find_button("Another code") is not None

        await wait_until(card_offers_another, 60, "the card showing the code", tmp_path)
        await chat.press("Another code", timeout=30)
        await chat.wait_for("Waiting for another code", timeout=30)
        # Killed mid-work: no shutdown hook, no goodbye.
        first.send_signal(signal.SIGKILL)
        await first.wait()

    provider.deliver_sms(a.provider_id, "2222")  # while nobody is listening

    async with bot_process(tmp_path, provider, tg, "second"):
        await wait_until(lambda: code_messages(chat, "2222"), 60, "second code", tmp_path)
        polls = provider.calls("getActiveActivations")
        await wait_until(lambda: provider.calls("getActiveActivations") >= polls + 5, 60,
                         "five more polls", tmp_path)

    assert len(code_messages(chat, "1111")) == 1
    assert len(code_messages(chat, "2222")) == 1
    reply = code_messages(chat, "2222")[0]
    assert reply.reply_to == a.card_message_id
    card = chat.message(a.card_message_id)
    assert card is not None
    assert "Code received" in card.text
