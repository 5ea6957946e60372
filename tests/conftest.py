"""Shared fixtures: the provider sandbox, the Telegram emulator and the real bot between them.

Everything runs on 127.0.0.1; the bot is the real dispatcher polling over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import App, build_app, close_app, running
from bot.config import Settings, load_settings
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuUser, TelegramEmulator

BOT_TOKEN = "123456:TEST-token-for-the-emulator"
SECRET = "tests-secret-key-0123456789"
DEMO_KEY = "demoKEY0123456789abcdefABCDEF"


@pytest.fixture
async def provider() -> AsyncIterator[ProviderSandbox]:
    sandbox = ProviderSandbox(cancel_delay=120.0, lifetime=1200.0)
    sandbox.load_demo_catalogue()
    sandbox.add_account(DEMO_KEY, balance=100.0)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator(token=BOT_TOKEN)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def make_settings(tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
                  **overrides: object) -> Settings:
    values: dict[str, object] = {
        "BOT_TOKEN": BOT_TOKEN,
        "SECRET_KEY": SECRET,
        "KOALA_API_URL": f"{provider.base_url}{ENDPOINT_PATH}",
        "TELEGRAM_API_URL": tg.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "POLL_INTERVAL": 0.3,
    }
    values.update(overrides)
    return load_settings(require_secret=True, **values)


@pytest.fixture
async def app(tmp_path: Path, provider: ProviderSandbox,
              tg: TelegramEmulator) -> AsyncIterator[App]:
    """The bot, built as main() builds it, polling the emulator."""
    # Short waits between the client's read retries and before a lost purchase is looked up:
    # the behaviour is the same, the tests just don't sit through production delays.
    application = await build_app(make_settings(tmp_path, provider, tg), koala_timeout=3.0,
                                  koala_backoff=0.01, reconcile_delay=0.05)
    try:
        async with running(application, polling_timeout=1):
            yield application
    finally:
        await close_app(application)


@dataclass
class Person:
    user: EmuUser
    chat: EmuChat


@pytest.fixture
def alice(tg: TelegramEmulator) -> Person:
    user = tg.add_user(first_name="Alice", language_code="en")
    return Person(user, tg.private_chat(user))


@pytest.fixture
async def alice_with_key(app: App, alice: Person) -> Person:
    """Alice has set a valid key through the bot, as a person would."""
    await alice.chat.send(f"/key {DEMO_KEY}")
    await alice.chat.wait_for("100.00")
    return alice


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)
