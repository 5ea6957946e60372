"""`python -m bot --sandbox`: the bot runs against its built-in provider, prints a demo key,
and a person can set that key, buy a number and get its code with no money at stake."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import BOT_TOKEN, Person

ROOT = Path(__file__).resolve().parent.parent


async def _read_demo_key(stream: asyncio.StreamReader) -> tuple[str, list[str]]:
    seen: list[str] = []
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError("the sandbox exited before printing a key:\n" + "".join(seen))
        seen.append(line)
        found = re.search(r"Demo API key: (\S+)", line)
        if found:
            return found.group(1), seen


async def test_sandbox_mode_prints_a_key_that_works(tmp_path: Path, tg: TelegramEmulator,
                                                    alice: Person) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in {"SECRET_KEY", "DATABASE_URL", "KOALA_API_URL"}}
    assert tg.url is not None  # the emulator is started
    env.update(BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_URL=tg.url, LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--sandbox", "--sandbox-sms-after", "1", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        assert process.stdout is not None
        key, _ = await asyncio.wait_for(_read_demo_key(process.stdout), timeout=30)
        await alice.chat.send("/start")
        await alice.chat.wait_for("KoalaSMS", timeout=15)
        await alice.chat.send(f"/key {key}")
        await alice.chat.wait_for("Balance: 100.00", timeout=10)
        await alice.chat.send("/buy")
        await alice.chat.wait_for("Choose a service", timeout=10)
        await alice.chat.press("Telegram")
        await alice.chat.wait_for("Choose a country", timeout=10)
        await alice.chat.press("Any country")
        await alice.chat.wait_for("Confirm", timeout=10)
        await alice.chat.press("Buy for")
        await alice.chat.wait_for("Waiting for the SMS", timeout=10)
        code = await alice.chat.wait_for(lambda m: m.text.startswith("🔑"), timeout=15)
        assert "Your verification code is" in code.text
        # Without SECRET_KEY and DATABASE_URL, the sandbox keeps its own database.
        assert (tmp_path / "data" / "sandbox.db").exists()
    finally:
        process.kill()
        await process.wait()
