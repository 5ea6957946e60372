"""Settings: read once from the environment and `.env`, with one readable line per mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_KOALA_API_URL,
    DEFAULT_TELEGRAM_API_URL,
    ConfigError,
    Settings,
    load_settings,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABC-def_ghi"
SECRET = "config-tests-secret-0123456789"
VARIABLES = list(Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable from the machine running the tests, and no stray `.env`."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET)
    settings = load_settings()
    assert settings.BOT_TOKEN.get_secret_value() == TOKEN
    assert settings.SECRET_KEY is not None
    assert settings.SECRET_KEY.get_secret_value() == SECRET
    assert settings.KOALA_API_URL == DEFAULT_KOALA_API_URL
    assert DEFAULT_KOALA_API_URL == "https://api.koalasms.com/stubs/handler_api.php"
    assert settings.TELEGRAM_API_URL == DEFAULT_TELEGRAM_API_URL == "https://api.telegram.org"
    assert settings.DATABASE_URL == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./data/koalabot.db"
    assert settings.POLL_INTERVAL == 2.0
    assert settings.REDIS_URL is None
    assert settings.WEBHOOK_URL is None


def test_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET,
        KOALA_API_URL="http://127.0.0.1:8081/stubs/handler_api.php",
        TELEGRAM_API_URL="http://127.0.0.1:8082/", DATABASE_URL="postgresql+asyncpg://u@h/db",
        POLL_INTERVAL="0.5", REDIS_URL="redis://127.0.0.1:6379/0", WEBHOOK_URL="")
    settings = load_settings()
    assert settings.KOALA_API_URL == "http://127.0.0.1:8081/stubs/handler_api.php"
    assert settings.TELEGRAM_API_URL == "http://127.0.0.1:8082"  # the slash is dropped
    assert settings.DATABASE_URL == "postgresql+asyncpg://u@h/db"
    assert settings.POLL_INTERVAL == 0.5
    assert settings.REDIS_URL == "redis://127.0.0.1:6379/0"
    assert settings.WEBHOOK_URL is None  # empty means unset


def test_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comments are fine\n"
        f"BOT_TOKEN={TOKEN}\n"
        f"SECRET_KEY={SECRET}\n"
        "POLL_INTERVAL=5\n"
        "DATABASE_URL=sqlite+aiosqlite:///./other.db\n"
        "SOMETHING_ELSE=ignored\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.BOT_TOKEN.get_secret_value() == TOKEN
    assert settings.POLL_INTERVAL == 5.0
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./other.db"
    env(monkeypatch, POLL_INTERVAL="3")  # the environment wins over the file
    assert load_settings().POLL_INTERVAL == 3.0


def test_overrides_win(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET, POLL_INTERVAL="9")
    assert load_settings(POLL_INTERVAL=0.3).POLL_INTERVAL == 0.3


def test_secrets_stay_out_of_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET)
    settings = load_settings()
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert TOKEN not in text
        assert SECRET not in text


def _error(monkeypatch: pytest.MonkeyPatch, **values: str) -> str:
    env(monkeypatch, **values)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert info.value.__cause__ is None
    # No pydantic wall of text behind it when it is printed.
    assert info.value.__context__ is None or info.value.__suppress_context__
    return message


def test_missing_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, SECRET_KEY=SECRET)
    assert message.startswith("BOT_TOKEN is missing")
    assert "@BotFather" in message


def test_bad_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, BOT_TOKEN="not-a-token", SECRET_KEY=SECRET)
    assert message.startswith("BOT_TOKEN is invalid")
    assert "not-a-token" not in message  # a secret, even a wrong one


def test_missing_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, BOT_TOKEN=TOKEN)
    assert message.startswith("SECRET_KEY is missing")
    assert "secrets.token_urlsafe" in message
    assert load_settings(require_secret=False).SECRET_KEY is None  # the sandbox needs none


def test_short_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY="short")
    assert message.startswith("SECRET_KEY is too short")
    assert "short:" not in message


@pytest.mark.parametrize("value", ["abc", "0", "0.1", "61", "-2", ""])
def test_bad_poll_interval(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    message = _error(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET, POLL_INTERVAL=value)
    assert message.startswith("POLL_INTERVAL is invalid")
    assert "between 0.2 and 60" in message


@pytest.mark.parametrize(("name", "value"), [
    ("KOALA_API_URL", "api.koalasms.com/stubs/handler_api.php"),
    ("TELEGRAM_API_URL", "ftp://example.org"),
    ("DATABASE_URL", "koalabot.db"),
    ("REDIS_URL", "http://127.0.0.1:6379"),
    ("WEBHOOK_URL", "http://example.org/hook"),
])
def test_bad_urls_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str,
                                    value: str) -> None:
    message = _error(monkeypatch, BOT_TOKEN=TOKEN, SECRET_KEY=SECRET, **{name: value})
    assert message.startswith(f"{name} is invalid")


def _run_bot(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    child_env.update(PYTHONPATH=str(ROOT), LOG_LEVEL="INFO", **extra)
    return subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=child_env,
                          capture_output=True, text=True, timeout=30, check=False)


def test_python_m_bot_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = _run_bot(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_python_m_bot_without_a_secret_says_so_in_one_line(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, BOT_TOKEN=TOKEN)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY is missing" in lines[0]
    assert TOKEN not in result.stderr
