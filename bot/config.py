"""Settings read from the environment (and `.env`), once, in `main()`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_KOALA_API_URL = "https://api.koalasms.com/stubs/handler_api.php"
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/koalabot.db"

# What to tell a person when a variable is missing or wrong: one line, no traceback.
_HINTS = {
    "BOT_TOKEN": "set it to the token @BotFather gave you",
    "SECRET_KEY": "set it to a long random string (it encrypts stored API keys), "
    "e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
    "POLL_INTERVAL": "set it to a number of seconds between 0.2 and 60",
    "DATABASE_URL": "use an SQLAlchemy async URL such as sqlite+aiosqlite:///./data/koalabot.db",
    "KOALA_API_URL": "use the full http(s) URL of handler_api.php",
    "TELEGRAM_API_URL": "use the base http(s) URL of a Bot API server",
    "WEBHOOK_URL": "use the public https URL Telegram should call",
    "REDIS_URL": "use a redis:// URL or leave it unset",
    "LOG_FORMAT": "use text or json",
    "EVENT_LOOP": "use uvloop or asyncio",
    "METRICS_PORT": "set it to a TCP port (1-65535) or leave it unset to serve no metrics",
    "METRICS_HOST": "set it to the address the metrics server listens on, e.g. 127.0.0.1",
    "ADMIN_IDS": "list Telegram user ids separated by commas, e.g. 12345,67890",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and says what to do."""


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/") if not value.endswith(".php") else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    BOT_TOKEN: SecretStr
    KOALA_API_URL: str = DEFAULT_KOALA_API_URL
    TELEGRAM_API_URL: str = DEFAULT_TELEGRAM_API_URL
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    SECRET_KEY: SecretStr | None = None
    POLL_INTERVAL: float = Field(default=2.0, ge=0.2, le=60)
    REDIS_URL: str | None = None
    WEBHOOK_URL: str | None = None
    # Not in the public contract: where the webhook server listens.
    WEBHOOK_HOST: str = "0.0.0.0"  # a webhook server listens publicly
    WEBHOOK_PORT: int = 8080
    WEBHOOK_SECRET: SecretStr | None = None
    LOG_FORMAT: Literal["text", "json"] = "text"
    EVENT_LOOP: Literal["uvloop", "asyncio"] = "uvloop"  # see bot/event_loop.py
    # Polling mode only (a webhook server serves /healthz and /metrics itself); unset: off.
    METRICS_PORT: int | None = Field(default=None, ge=1, le=65535)
    METRICS_HOST: str = "127.0.0.1"  # metrics are for the operator, not the internet
    ADMIN_IDS: Annotated[frozenset[int], NoDecode] = frozenset()  # who may use /stats

    @field_validator("LOG_FORMAT", "EVENT_LOOP", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("METRICS_PORT", mode="before")
    @classmethod
    def _check_metrics_port(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ADMIN_IDS", mode="before")
    @classmethod
    def _check_admins(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids = set()
        for part in value.replace(" ", "").split(","):
            if not part:
                continue
            if not part.lstrip("-").isdigit():
                raise ValueError(f"{part!r} is not a number")
            ids.add(int(part))
        return frozenset(ids)

    @field_validator("KOALA_API_URL", "TELEGRAM_API_URL")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("WEBHOOK_URL")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith("https://") and not value.startswith("http://127.0.0.1"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _check_redis(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("is not a database URL")
        return value

    @field_validator("BOT_TOKEN")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ValueError("does not look like a bot token (digits:letters)")
        return value


def load_settings(*, require_secret: bool = True, **overrides: object) -> Settings:
    """Build the settings or raise ConfigError with one readable line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "configuration"
        reason = str(err["msg"]).removeprefix("Value error, ")
        problem = "is missing" if err["type"] == "missing" else f"is invalid ({reason})"
        hint = _HINTS.get(name, "check its value")
        raise ConfigError(f"{name} {problem}: {hint}.") from None
    if require_secret and settings.SECRET_KEY is None:
        raise ConfigError(f"SECRET_KEY is missing: {_HINTS['SECRET_KEY']}.")
    if settings.SECRET_KEY is not None and len(settings.SECRET_KEY.get_secret_value()) < 16:
        hint = _HINTS["SECRET_KEY"]
        raise ConfigError(f"SECRET_KEY is too short (16 characters at least): {hint}.")
    return settings
