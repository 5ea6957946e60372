"""The account's currency is stored once, and the migration that adds it fills it in for
accounts that bought before (from their latest purchase that named one)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, text

from storage.crypto import KeyBox
from storage.db import alembic_config, create_engine, migrate, session_factory
from storage.models import Account
from storage.repo import AccountRepo
from tests.test_storage import Db, db  # noqa: F401  (the fixture: SQLite and PostgreSQL)

KEY = "plainKEYab12cd34ef56gh78ij90"


async def test_the_currency_is_learned_once(db: Db) -> None:  # noqa: F811
    async with db.sessions() as session:
        accounts = AccountRepo(session, KeyBox("currency-tests-secret-0123456789"))
        account = await accounts.set_key(5, KEY, linked_by=5)
        assert account.id is not None
        assert account.currency is None
        assert await accounts.learn_currency(account.id, 643) is True
        assert await accounts.learn_currency(account.id, 840) is False  # known already
    async with db.sessions() as session:
        stored = await session.get(Account, account.id)
        assert stored is not None
        assert stored.currency == 643


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_the_migration_fills_in_the_currency_of_accounts_that_bought(
        tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0001")
            now = "'2025-03-01 10:00:00.000000'"
            await conn.execute(text(
                "INSERT INTO accounts (id, owner_id, key_encrypted, key_hint, linked_by,"
                f" created_at) VALUES (1, 5, 'x', 'x', 5, {now}), (2, 6, 'y', 'y', 6, {now})"))
            for row_id, currency in ((1, 643), (2, None), (3, 840)):
                await conn.execute(text(
                    "INSERT INTO activations (id, provider_id, account_id, chat_id, buyer_id,"
                    " service, phone, cost, currency, state, can_get_another_sms,"
                    " cancel_requested, resend_requested, bought_at, cancel_at, ends_at,"
                    f" updated_at) VALUES ({row_id}, {row_id}, 1, 5, 5, 'tg', '7900', 1.0,"
                    f" :currency, 'completed', 0, 0, 0, {now}, {now}, {now}, {now})"),
                    {"currency": currency})
        await migrate(engine)
        async with session_factory(engine)() as session:
            first, second = await session.get(Account, 1), await session.get(Account, 2)
            assert first is not None
            assert second is not None
            assert first.currency == 840  # the latest purchase that named one
            assert second.currency is None  # never bought: not known yet
    finally:
        await engine.dispose()
