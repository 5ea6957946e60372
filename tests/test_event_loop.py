"""The bot runs on uvloop by default (EVENT_LOOP), on asyncio's own loop when asked."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot import event_loop
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import BOT_TOKEN
from tests.test_config import SECRET, TOKEN, _error

ROOT = Path(__file__).resolve().parent.parent


async def _loop_name() -> str:
    return event_loop.running_loop_name()


def test_uvloop_is_the_default_and_asyncio_can_be_chosen() -> None:
    assert event_loop.run(_loop_name(), "uvloop") == "uvloop"
    assert event_loop.run(_loop_name(), "asyncio") == "asyncio"
    assert event_loop.loop_factory("asyncio") is None


def test_without_uvloop_the_bot_still_runs(monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import fails, as on Windows
    assert event_loop.loop_factory("uvloop") is None
    assert "uvloop is not installed" in caplog.text
    assert event_loop.run(_loop_name(), "uvloop") == "asyncio"


def test_bad_event_loop_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET, EVENT_LOOP="trio")
    assert message.startswith("EVENT_LOOP is invalid")
    assert "uvloop or asyncio" in message


@pytest.mark.parametrize(("choice", "expected"), [(None, "uvloop"), ("asyncio", "asyncio")])
async def test_the_bot_process_says_which_loop_it_runs_on(
        tmp_path: Path, tg: TelegramEmulator, choice: str | None, expected: str) -> None:
    environ = {key: value for key, value in os.environ.items()
               if key not in {"SECRET_KEY", "DATABASE_URL", "KOALA_API_URL", "EVENT_LOOP"}}
    assert tg.url is not None  # the emulator is started
    environ.update(BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_URL=tg.url, LOG_LEVEL="INFO",
                   PYTHONPATH=str(ROOT))
    if choice is not None:
        environ["EVENT_LOOP"] = choice
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--sandbox", "--sandbox-sms-after", "0", cwd=tmp_path,
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    seen: list[str] = []
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            while not any(" instance " in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, "the bot exited:\n" + "".join(seen)
                seen.append(line)
    finally:
        process.kill()
        await process.wait()
    started = next(line for line in seen if " instance " in line)
    assert f"{expected} event loop" in started
