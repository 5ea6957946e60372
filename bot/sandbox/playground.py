"""A whole world on 127.0.0.1: emulated provider, emulated Telegram, the real bot between.

Used by the benchmarks, by `python -m bot --playground` (bot/playground: the same world in a
web page) and to drive the bot by hand:

    python -m bot.sandbox.playground        # runs a demo story and prints the chat
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import App, build_app, close_app, running
from bot.config import load_settings
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuUser, TelegramEmulator

TOKEN = "123456:PLAYGROUND-token"
DEMO_KEY = "demoPlaygroundKey0123456789"


@dataclass
class World:
    app: App
    provider: ProviderSandbox
    tg: TelegramEmulator


@dataclass
class Cast:
    """The people of the playground: Ann and Ben, each with a private chat, and their
    supergroup in which Ann (its creator) is the admin and Ben a member."""

    ann: EmuUser
    ben: EmuUser
    group: EmuChat

    @property
    def people(self) -> list[EmuUser]:
        return [self.ann, self.ben]


def add_cast(tg: TelegramEmulator, group_title: str = "Koala Team") -> Cast:
    ann = tg.add_user(first_name="Ann", language_code="en", username="ann_koala")
    ben = tg.add_user(first_name="Ben", language_code="en", username="ben_koala")
    for person in (ann, ben):
        tg.private_chat(person)
    group = tg.add_group(group_title, [ann], [ben])
    # Ann adds the bot, as a person would: it introduces itself in the group.
    group.bot_left = True
    group.add_bot(by=ann, admin=True)
    return Cast(ann, ben, group)


@asynccontextmanager
async def world(*, poll_interval: float = 0.5, database_url: str | None = None,
                balance: float = 100.0) -> AsyncIterator[World]:
    provider = ProviderSandbox()
    provider.load_demo_catalogue()
    provider.add_account(DEMO_KEY, balance=balance)
    tg = TelegramEmulator(token=TOKEN)
    await provider.start()
    await tg.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            BOT_TOKEN=TOKEN, SECRET_KEY="playground-secret-0123456789",
            KOALA_API_URL=f"{provider.base_url}{ENDPOINT_PATH}", TELEGRAM_API_URL=tg.url,
            DATABASE_URL=database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'play.db'}",
            POLL_INTERVAL=poll_interval,
            # Self-contained whatever .env says: polling, no metrics port, memory FSM.
            WEBHOOK_URL=None, METRICS_PORT=None, REDIS_URL=None)
        app = await build_app(settings, koala_timeout=5.0)
        try:
            async with running(app, polling_timeout=1):
                yield World(app, provider, tg)
        finally:
            await close_app(app)
            await tg.stop()
            await provider.stop()


async def demo() -> None:
    async with world() as w:
        user = w.tg.add_user(first_name="Demo", language_code="en")
        chat = w.tg.private_chat(user)
        await chat.send("/start")
        await chat.wait_idle()
        await chat.send(f"/key {DEMO_KEY}")
        await chat.wait_idle()
        await chat.send("/buy")
        await chat.wait_idle()
        print(chat.transcript())


if __name__ == "__main__":
    asyncio.run(demo())
