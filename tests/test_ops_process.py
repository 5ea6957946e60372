"""The real `python -m bot` process: JSON logs that never hold a key, and SIGTERM ending
it cleanly after the updates it is handling are answered."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.logs import configure
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import BOT_TOKEN, DEMO_KEY, SECRET, Person
from tests.helpers import until

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        assert proc.stderr is not None
        self._reader = asyncio.create_task(self._read(proc.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))
            self._changed.set()

    async def wait_line(self, needle: str, timeout: float = 20.0) -> str:
        async def find() -> str:
            while True:
                for line in self.lines:
                    if needle in line:
                        return line
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(find(), timeout)

    async def finish(self, timeout: float = 30.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await self._reader
        return code


@asynccontextmanager
async def bot_running(env: dict[str, str], cwd: Path, *,
                      stdout: int = asyncio.subprocess.DEVNULL,
                      python_args: tuple[str, ...] = ("-m", "bot")
                      ) -> AsyncIterator[BotProcess]:
    """`python -m bot` with its log lines read as they come; killed if still running.
    (stdout=PIPE only for a short run: nobody reads it until the end.)"""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *python_args, cwd=cwd, env=env, stdout=stdout,
        stderr=asyncio.subprocess.PIPE)
    process = BotProcess(proc)
    try:
        yield process
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def bot_env(tmp_path: Path, provider: ProviderSandbox,
            tg: TelegramEmulator) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH") or "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": BOT_TOKEN,
        "SECRET_KEY": SECRET,
        "KOALA_API_URL": f"{provider.base_url}{ENDPOINT_PATH}",
        "TELEGRAM_API_URL": str(tg.url),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "POLL_INTERVAL": "0.3",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",  # everything that could leak a key is written
    }


@pytest.fixture
async def bot_process(tmp_path: Path, provider: ProviderSandbox,
                      tg: TelegramEmulator) -> AsyncIterator[BotProcess]:
    async with bot_running(bot_env(tmp_path, provider, tg), tmp_path,
                           stdout=asyncio.subprocess.PIPE) as process:
        yield process


async def test_sigterm_answers_updates_in_flight_and_exits_cleanly(
        bot_process: BotProcess, provider: ProviderSandbox, tg: TelegramEmulator,
        alice: Person) -> None:
    # Generous: importing the bot alone takes many seconds on a loaded test machine.
    await tg.wait_request("getUpdates", timeout=90)
    await alice.chat.send(f"/key {DEMO_KEY}")
    await alice.chat.wait_for("100.00", timeout=20)

    # An update in flight: its provider request hangs until the bot has been told to stop.
    provider.hold("getBalance")
    provider.add_account(DEMO_KEY, balance=42.0)
    asked = provider.calls("getBalance")
    await alice.chat.send("/balance")
    await until(lambda: provider.calls("getBalance") > asked, "the balance request")
    bot_process.proc.send_signal(signal.SIGTERM)
    # Polling has stopped and the poller too: only the update in flight is left.
    await bot_process.wait_line("stopping: finishing the updates in flight")
    provider.release()

    await alice.chat.wait_for("42.00", timeout=20)  # answered, not cut off
    assert await bot_process.finish() == 0
    stdout = await bot_process.proc.stdout.read() if bot_process.proc.stdout else b""
    output = "\n".join(bot_process.lines) + stdout.decode()
    assert "Traceback" not in output
    assert bot_process.lines
    for line in bot_process.lines:  # every line is one JSON object
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
    assert DEMO_KEY not in output
    assert DEMO_KEY[4:-4] not in output  # not even a part of it


# `python -m bot` in a process where Alembic cannot be imported at all; the migrations'
# child is a fresh interpreter, so it can.
WITHOUT_ALEMBIC = """
import importlib.abc, runpy, sys

class NoAlembic(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "alembic" or name.startswith("alembic."):
            raise ImportError("alembic imported by the bot process")
        return None

sys.meta_path.insert(0, NoAlembic())
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


async def test_the_running_bot_never_imports_alembic(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
        alice: Person) -> None:
    """Alembic (~12 MiB for the life of the process) is only needed for the migrations at
    start-up: they run in a child process, and the bot still comes up on a new database."""
    env = bot_env(tmp_path, provider, tg)
    async with bot_running(env, tmp_path, python_args=("-c", WITHOUT_ALEMBIC)) as bot:
        await tg.wait_request("getUpdates", timeout=90)
        await alice.chat.send(f"/key {DEMO_KEY}")  # the schema is there: the key is stored
        await alice.chat.wait_for("100.00", timeout=20)
        bot.proc.send_signal(signal.SIGTERM)
        assert await bot.finish() == 0
    assert not [line for line in bot.lines if "alembic imported" in line]
    # The child's lines are in the bot's log, in the same format (JSON here).
    assert [json.loads(line) for line in bot.lines if '"logger": "alembic.' in line]


async def test_failed_migrations_stop_the_start(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    (tmp_path / "bot.db").write_text("not a database")
    env = bot_env(tmp_path, provider, tg)
    async with bot_running(env, tmp_path) as bot:
        assert await bot.finish(timeout=90) != 0
    output = "\n".join(bot.lines)
    assert "the database migrations failed" in output
    assert not tg.calls("getUpdates")


def test_json_logs_scrub_keys_whoever_logs_them() -> None:
    """The redaction filter sits on the handler configure() installs, before formatting."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure("INFO", "json")
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        logging.getLogger("aiohttp.client").warning(
            "GET %s failed", f"https://p.example/handler_api.php?api_key={DEMO_KEY}&action=x")
        try:
            raise ValueError(f"api_key={DEMO_KEY}")
        except ValueError:
            logging.getLogger("x").exception("boom")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 2
    assert "api_key=***" in entries[0]["message"]
    assert "ValueError" in entries[1]["message"]
    assert DEMO_KEY not in stream.getvalue()
