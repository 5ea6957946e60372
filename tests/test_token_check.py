"""`python -m bot` checks BOT_TOKEN with getMe before anything else: a rejected token ends
the start in one line and a non-zero exit; an unreachable Telegram is retried with one
log line per attempt, never a traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parent.parent
WRONG_TOKEN = "123456:WRONG-token-that-telegram-never-issued"


def _env(tmp_path: Path, telegram_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "WEBHOOK_URL"}},
        "BOT_TOKEN": WRONG_TOKEN,
        "SECRET_KEY": SECRET,
        "TELEGRAM_API_URL": telegram_url,
        "KOALA_API_URL": "http://127.0.0.1:9/stubs/handler_api.php",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }


async def test_a_rejected_token_ends_the_start_in_one_line(tmp_path: Path,
                                                            tg: TelegramEmulator) -> None:
    assert tg.url is not None  # the emulator is started
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=_env(tmp_path, tg.url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = out.decode(errors="replace")
    assert process.returncode not in (0, None), text
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Telegram rejected BOT_TOKEN: Unauthorized" in lines[0]
    assert "WRONG-token" not in text  # the token itself is a secret
    assert not (tmp_path / "bot.db").exists()  # stopped before touching anything


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


async def test_an_unreachable_telegram_is_retried_one_line_per_attempt(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=_env(tmp_path, url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while sum("Telegram not reachable" in line for line in lines) < 2:
            raw = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            if not raw:
                break  # the process ended
            lines.append(raw.decode(errors="replace").rstrip("\n"))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
    text = "\n".join(lines)
    attempts = [line for line in lines if "Telegram not reachable" in line]
    assert len(attempts) == 2, text
    assert "attempt 1:" in attempts[0]
    assert "attempt 2:" in attempts[1]
    assert "Traceback" not in text
    assert len(lines) == 2, text  # nothing but one line per attempt
    assert "WRONG-token" not in text
