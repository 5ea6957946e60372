"""Memory of the bot process alone: `python -m bot` as a subprocess against in-process
emulators, idle and after users have talked to it and bought numbers.

    python -m bench.memory [--users 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bot.sandbox.playground import DEMO_KEY, TOKEN
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def measure(users: int) -> None:
    provider = ProviderSandbox()
    provider.load_demo_catalogue()
    provider.set_offer("wa", 22, 10.0, users + 10)
    provider.add_account(DEMO_KEY, balance=1e9)
    tg = TelegramEmulator(token=TOKEN)
    await provider.start()
    await tg.start()
    assert tg.url is not None  # the emulator is started
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BOT_TOKEN": TOKEN, "SECRET_KEY": "bench-secret-0123456789",
               "KOALA_API_URL": f"{provider.base_url}{ENDPOINT_PATH}",
               "TELEGRAM_API_URL": tg.url, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/b.db",
               "POLL_INTERVAL": "2", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp,
                                                       env=env)
        try:
            await tg.wait_request("getUpdates", timeout=30)
            await asyncio.sleep(1)
            print(f"idle after start: {rss_mib(process.pid)[0]:.0f} MiB")
            chats = [tg.private_chat(tg.add_user(first_name=f"U{i}")) for i in range(users)]
            for chat in chats:
                await chat.send(f"/key {DEMO_KEY}")
            await asyncio.gather(*(c.wait_for("Balance", timeout=60) for c in chats))
            for chat in chats:
                await chat.send("whatsapp")
            await asyncio.gather(*(c.wait_for("matching", timeout=60) for c in chats))
            for chat in chats:
                await chat.press("WhatsApp")
            await asyncio.gather(*(c.wait_for("Choose a country", timeout=60) for c in chats))
            for chat in chats:
                await chat.press("India")
            await asyncio.gather(*(c.wait_for("Confirm", timeout=60) for c in chats))
            for chat in chats:
                await chat.press("Buy for")
            await asyncio.gather(*(c.wait_for("Waiting for the SMS", timeout=60) for c in chats))
            await asyncio.sleep(5)  # a few poll ticks over every running activation
            now, peak = rss_mib(process.pid)
            print(f"{users} users, {users} running activations: {now:.0f} MiB "
                  f"(peak {peak:.0f} MiB)")
        finally:
            process.kill()
            await process.wait()
    await tg.stop()
    await provider.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    asyncio.run(measure(parser.parse_args().users))


if __name__ == "__main__":
    main()
