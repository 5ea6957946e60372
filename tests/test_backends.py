"""The bot on its optional back-ends: PostgreSQL for data, Redis for conversation state.

Both services are started by this machine kind; elsewhere these tests skip with a reason.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.test_storage import head_revision

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


needs_postgres = pytest.mark.skipif(not _reachable(5432),
                                    reason="PostgreSQL is not running on 127.0.0.1:5432")
needs_redis = pytest.mark.skipif(not _reachable(6379),
                                 reason="Redis is not running on 127.0.0.1:6379")


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"koalabot_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@needs_postgres
async def test_bot_runs_on_postgresql(tmp_path: Path, provider: ProviderSandbox,
                                      tg: TelegramEmulator, alice: Person,
                                      pg_database: str) -> None:
    app = await build_app(make_settings(tmp_path, provider, tg, DATABASE_URL=pg_database),
                          koala_timeout=3.0)
    try:
        async with running(app, polling_timeout=1):
            await alice.chat.send(f"/key {DEMO_KEY}")
            await alice.chat.wait_for("100.00")
        async with app.engine.connect() as conn:
            stored = (await conn.execute(text("SELECT key_encrypted FROM accounts"))).scalar_one()
            head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        assert DEMO_KEY not in stored
        assert head == head_revision()
    finally:
        await close_app(app)


@needs_redis
async def test_conversation_state_is_shared_through_redis(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, alice: Person) -> None:
    """Instance A asks for the key; instance B, sharing Redis, takes the answer."""
    import redis.asyncio as redis

    settings = make_settings(tmp_path, provider, tg, REDIS_URL=REDIS_URL)
    first = await build_app(settings, koala_timeout=3.0)
    try:
        async with running(first, polling_timeout=1):
            await alice.chat.send("/key")
            await alice.chat.wait_for(lambda m: "key" in m.text.lower())
            await alice.chat.wait_idle()
    finally:
        await close_app(first)

    second = await build_app(settings, koala_timeout=3.0)
    try:
        async with running(second, polling_timeout=1):
            await alice.chat.send(DEMO_KEY)
            await alice.chat.wait_for("100.00")
    finally:
        await close_app(second)
        client = redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"fsm:*:{alice.user.id}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
