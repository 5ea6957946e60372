"""WEBHOOK_URL set: the bot registers its webhook and answers updates Telegram posts to it,
and refuses posts without Telegram's secret token."""

from __future__ import annotations

import asyncio
import socket
from contextlib import suppress
from pathlib import Path

import aiohttp

from bot.app import run
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import Person, make_settings

SECRET_TOKEN = "webhook-secret-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode(tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
                            alice: Person) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    settings = make_settings(tmp_path, provider, tg, WEBHOOK_URL=url, WEBHOOK_HOST="127.0.0.1",
                             WEBHOOK_PORT=port, WEBHOOK_SECRET=SECRET_TOKEN)
    task = asyncio.create_task(run(settings))
    try:
        registered = await tg.wait_request("setWebhook", timeout=10)
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == SECRET_TOKEN
        update = {
            "update_id": 1,
            "message": {"message_id": 1, "date": 0, "chat": alice.chat.to_api(),
                        "from": alice.user.to_api(), "text": "/start",
                        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
        }
        async with aiohttp.ClientSession() as http:
            forged = await http.post(url, json=update)
            assert forged.status == 401
            genuine = await http.post(url, json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN})
            assert genuine.status == 200
        reply = await alice.chat.wait_for("KoalaSMS")
        assert len(alice.chat.bot_messages) == 1  # the forged post did nothing
        assert "Hi" in reply.text
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
