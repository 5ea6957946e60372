"""Storage: migrations, the repositories and the state machine, on SQLite and PostgreSQL.

The PostgreSQL runs need a server on 127.0.0.1:5432 that trusts local connections; each
test gets a schema of its own, dropped afterwards, so runs (and parallel runs) are
independent. Without a server those runs skip with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.crypto import KeyBox, KeyDecryptError
from storage.db import SessionFactory, alembic_config, create_engine, migrate, session_factory
from storage.models import Activation, User
from storage.repo import AccountRepo, ActivationRepo, CodeRepo, Spending, UserRepo
from storage.states import (
    ACTIVE_STATES,
    FINAL_STATES,
    TRANSITIONS,
    ActivationState,
    InvalidTransition,
    can_move,
    check_move,
)

S = ActivationState
SECRET = "storage-tests-secret-0123456789"
API_KEY = "plainKEYab12cd34ef56gh78ij90"
OTHER_KEY = "otherKEYzz98yy76xx54ww32vv10"
PG_HOST, PG_PORT, PG_DATABASE = "127.0.0.1", 5432, "test"
TABLES = {"users", "favourites", "accounts", "activations", "codes", "group_settings",
          "group_links",
          "group_members", "group_reservations",
          "purchase_intents", "leases", "buy_claims", "code_sends"}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _pg_role() -> str | None:
    """The first role the local server lets in without a password."""
    for user in ("postgres", "root"):
        try:
            conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user,
                                         database=PG_DATABASE, timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            continue
        await conn.close()
        return user
    return None


@dataclass
class Db:
    backend: str
    engine: AsyncEngine
    sessions: SessionFactory
    path: Path | None = None  # the SQLite file


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Db]:
    """A migrated, empty database."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate(engine)
            yield Db("sqlite", engine, session_factory(engine), path)
        finally:
            await engine.dispose()
        return
    role = await _pg_role()
    if role is None:
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} as postgres or root "
                    "(trust auth, database 'test')")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=role, database=PG_DATABASE)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_async_engine(
        f"postgresql+asyncpg://{role}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}",
        connect_args={"server_settings": {"search_path": schema}},
    )
    try:
        await migrate(engine)
        yield Db("postgres", engine, session_factory(engine))
    finally:
        await engine.dispose()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


@pytest.fixture
def keybox() -> KeyBox:
    return KeyBox(SECRET)


# --- migrations ------------------------------------------------------------------------


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _version(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return [r[0] for r in await conn.execute(text("SELECT version_num FROM alembic_version"))]


async def test_migrations_build_the_schema_and_are_idempotent(db: Db) -> None:
    assert await _tables(db.engine) == TABLES | {"alembic_version"}
    assert await _version(db.engine) == [head_revision()]
    async with db.sessions() as session:
        await UserRepo(session).get_or_create(1, "en")
    await migrate(db.engine)  # every start runs it: must change nothing
    assert await _version(db.engine) == [head_revision()]
    async with db.sessions() as session:
        assert await UserRepo(session).get(1) is not None


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'bot.db'}")
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()
    assert (tmp_path / "nested" / "bot.db").exists()  # the folder was created


# --- users and favourites ----------------------------------------------------------------


async def test_users(db: Db) -> None:
    async with db.sessions() as session:
        users = UserRepo(session)
        ru = await users.get_or_create(10, "ru-RU")
        assert ru.language == "ru"
        assert (await users.get_or_create(11, "uk")).language == "ru"
        assert (await users.get_or_create(12, "de")).language == "en"
        assert (await users.get_or_create(13, None)).language == "en"
        again = await users.get_or_create(10, "en")  # an existing user keeps his choice
        assert again.language == "ru"
        ru.default_country, ru.tz_offset_minutes = 22, 330
        await users.save(ru)
    async with db.sessions() as session:
        stored = await UserRepo(session).get(10)
        assert stored is not None
        assert (stored.language, stored.default_country, stored.tz_offset_minutes) == (
            "ru", 22, 330)
        assert await UserRepo(session).get(99) is None


async def test_favourites_toggle(db: Db) -> None:
    async with db.sessions() as session:
        users = UserRepo(session)
        assert await users.toggle_favourite(1, "tg") is True
        assert await users.toggle_favourite(1, "wa") is True
        assert await users.toggle_favourite(2, "vk") is True
        assert await users.favourites(1) == ["tg", "wa"]
        assert await users.toggle_favourite(1, "tg") is False
        assert await users.favourites(1) == ["wa"]
        assert await users.favourites(2) == ["vk"]
        assert await users.toggle_favourite(1, "tg") is True
        assert await users.favourites(1) == ["wa", "tg"]


# --- accounts ---------------------------------------------------------------------------


async def test_accounts_keys(db: Db, keybox: KeyBox) -> None:
    async with db.sessions() as session:
        accounts = AccountRepo(session, keybox)
        assert await accounts.current(1) is None
        first = await accounts.set_key(1, API_KEY, linked_by=1)
        assert first.key_hint == "pla…j90"
        assert first.key_encrypted != API_KEY
        assert API_KEY not in first.key_encrypted
        group = await accounts.set_key(-100, OTHER_KEY, linked_by=1)
    async with db.sessions() as session:
        accounts = AccountRepo(session, keybox)
        current = await accounts.current(1)
        assert current is not None
        assert current.id == first.id
        assert accounts.api_key(current) == API_KEY
        group_current = await accounts.current(-100)
        assert group_current is not None
        assert group_current.id == group.id
        assert accounts.api_key(group_current) == OTHER_KEY

        # A new key retires the old one, which still decrypts for its running work.
        second = await accounts.set_key(1, OTHER_KEY, linked_by=1)
        current = await accounts.current(1)
        assert current is not None
        assert current.id == second.id
        old = await accounts.get(first.id or 0)
        assert old is not None
        assert old.retired_at is not None
        assert old.retired_at.tzinfo is not None
        assert accounts.api_key(old) == API_KEY

        assert await accounts.remove(1) is True
        assert await accounts.current(1) is None
        assert await accounts.remove(1) is False  # nothing left to remove
        assert await accounts.current(-100) is not None  # other owners untouched


async def test_a_changed_secret_cannot_read_keys(db: Db, keybox: KeyBox) -> None:
    async with db.sessions() as session:
        account = await AccountRepo(session, keybox).set_key(1, API_KEY, linked_by=1)
        with pytest.raises(KeyDecryptError):
            AccountRepo(session, KeyBox("another-secret-0123456789")).api_key(account)
    assert SECRET not in repr(keybox)


async def test_forget_idle_retired(db: Db, keybox: KeyBox) -> None:
    async with db.sessions() as session:
        accounts = AccountRepo(session, keybox)
        busy = await accounts.set_key(1, API_KEY, linked_by=1)
        await ActivationRepo(session).add(activation(busy.id, provider_id=1))
        idle = await accounts.set_key(2, OTHER_KEY, linked_by=2)
        finished = await accounts.set_key(3, OTHER_KEY, linked_by=3)
        done = await ActivationRepo(session).add(activation(finished.id, provider_id=2))
        await ActivationRepo(session).move(done, S.CANCELLED)
        live = await accounts.set_key(4, OTHER_KEY, linked_by=4)
        for owner in (1, 2, 3):
            await accounts.remove(owner)

        assert await accounts.forget_idle_retired() == 2
        assert await accounts.forget_idle_retired() == 0
    async with db.sessions() as session:
        accounts = AccountRepo(session, keybox)
        keys = {a: (await accounts.get(a or 0)) for a in (busy.id, idle.id, finished.id, live.id)}
        assert {a: (row.key_encrypted != "") for a, row in keys.items() if row} == {
            busy.id: True, idle.id: False, finished.id: False, live.id: True}


def _files_bytes(folder: Path, prefix: str) -> tuple[set[str], bytes]:
    files = sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
    return {p.name for p in files}, b"".join(p.read_bytes() for p in files)


async def test_no_plaintext_key_in_the_sqlite_files(tmp_path: Path, keybox: KeyBox) -> None:
    path = tmp_path / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate(engine)
        async with session_factory(engine)() as session:
            accounts = AccountRepo(session, keybox)
            await accounts.set_key(1, API_KEY, linked_by=1)
            await accounts.set_key(1, OTHER_KEY, linked_by=1)
            await accounts.set_key(-5, API_KEY, linked_by=1)
        names, raw = _files_bytes(tmp_path, "bot.db")
        assert "bot.db-wal" in names  # the recent writes sit in the WAL file: read it too
        assert b"pla\xe2\x80\xa6j90" in raw  # the rows are there (as masked hints)...
        for key in (API_KEY, OTHER_KEY):
            assert key.encode() not in raw  # ...but no key in clear
            assert key.encode("utf-16-le") not in raw
    finally:
        await engine.dispose()


# --- activations ------------------------------------------------------------------------

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def activation(account_id: int | None, *, provider_id: int, chat_id: int = 1,
               buyer_id: int = 1, service: str = "tg", cost: float = 10.0,
               state: ActivationState = S.WAITING, bought_at: datetime = T0) -> Activation:
    assert account_id is not None
    return Activation(
        provider_id=provider_id, account_id=account_id, chat_id=chat_id, buyer_id=buyer_id,
        service=service, country=0, phone=f"7900{provider_id:07d}", cost=cost, currency=643,
        state=state, bought_at=bought_at, cancel_at=bought_at + timedelta(minutes=2),
        ends_at=bought_at + timedelta(minutes=20),
    )


async def _account(session_factory: SessionFactory, keybox: KeyBox, owner: int = 1) -> int:
    async with session_factory() as session:
        account = await AccountRepo(session, keybox).set_key(owner, API_KEY, linked_by=abs(owner))
        assert account.id is not None
        return account.id


async def test_activation_round_trip_keeps_aware_times(db: Db, keybox: KeyBox) -> None:
    account_id = await _account(db.sessions, keybox)
    india = timezone(timedelta(hours=5, minutes=30))
    bought = datetime(2025, 6, 1, 17, 45, 30, 123456, tzinfo=india)
    async with db.sessions() as session:
        row = await ActivationRepo(session).add(
            activation(account_id, provider_id=700000001, bought_at=bought))
        assert row.id is not None
    async with db.sessions() as session:
        repo = ActivationRepo(session)
        stored = await repo.get(row.id)
        assert stored is not None
        assert stored.bought_at == bought
        assert stored.bought_at.utcoffset() == timedelta(0)
        assert stored.bought_at.replace(tzinfo=None) == datetime(2025, 6, 1, 12, 15, 30, 123456)
        assert stored.cancel_at - stored.bought_at == timedelta(minutes=2)
        assert stored.ends_at == bought + timedelta(minutes=20)
        assert stored.updated_at.tzinfo is not None
        assert stored.state == S.WAITING
        assert stored.provider_id == 700000001
        assert (stored.phone, stored.cost, stored.currency) == ("7900700000001", 10.0, 643)
        found = await repo.by_provider_id(account_id, 700000001)
        assert found is not None
        assert found.id == row.id
        assert await repo.by_provider_id(account_id, 1) is None


async def test_activation_moves_follow_the_state_machine(db: Db, keybox: KeyBox) -> None:
    account_id = await _account(db.sessions, keybox)
    async with db.sessions() as session:
        repo = ActivationRepo(session)
        row = await repo.add(activation(account_id, provider_id=1))
        row.cancel_requested = True
        await repo.move(row, S.RECEIVED)
        await repo.move(row, S.RETRY)
        await repo.move(row, S.RECEIVED)
        assert row.finished_at is None
        await repo.move(row, S.COMPLETED)
        assert row.finished_at is not None
        assert row.cancel_requested is False
        with pytest.raises(InvalidTransition) as info:
            await repo.move(row, S.CANCELLED)
        assert (info.value.current, info.value.target) == (S.COMPLETED, S.CANCELLED)
        other = await repo.add(activation(account_id, provider_id=2))
        await repo.move(other, S.RECEIVED)
        with pytest.raises(InvalidTransition):
            await repo.move(other, S.CANCELLED)  # a number that got its code is paid for
    async with db.sessions() as session:
        repo = ActivationRepo(session)
        first, second = await repo.get(row.id or 0), await repo.get(other.id or 0)
        assert first is not None
        assert second is not None
        assert (first.state, second.state) == (S.COMPLETED, S.RECEIVED)
        assert first.finished_at is not None
        assert first.finished_at.tzinfo is not None


async def test_active_history_and_counts(db: Db, keybox: KeyBox) -> None:
    account_id = await _account(db.sessions, keybox)
    async with db.sessions() as session:
        repo = ActivationRepo(session)
        rows = []
        for n, (chat, buyer, state) in enumerate([
            (1, 1, S.WAITING), (1, 1, S.COMPLETED), (-50, 1, S.RECEIVED),
            (-50, 2, S.RETRY), (-50, 2, S.CANCELLED), (1, 1, S.EXPIRED), (1, 1, S.WAITING),
        ], start=1):
            rows.append(await repo.add(activation(account_id, provider_id=n, chat_id=chat,
                                                  buyer_id=buyer, state=state)))
        ids = [r.id for r in rows]
        assert [a.id for a in await repo.active()] == [ids[0], ids[2], ids[3], ids[6]]
        assert [a.id for a in await repo.active_in_chat(1)] == [ids[0], ids[6]]
        assert [a.id for a in await repo.active_in_chat(-50)] == [ids[2], ids[3]]
        assert [a.id for a in await repo.active_in_chat(-50, buyer_id=2)] == [ids[3]]
        assert [a.id for a in await repo.history(1)] == [ids[6], ids[5], ids[1], ids[0]]
        assert [a.id for a in await repo.history(1, offset=1, limit=2)] == [ids[5], ids[1]]
        assert [a.id for a in await repo.history(-50, buyer_id=1)] == [ids[2]]
        assert await repo.history(2) == []
        assert await repo.count(1) == 4
        assert await repo.count(-50) == 3
        assert await repo.count(-50, buyer_id=2) == 2


async def test_spending(db: Db, keybox: KeyBox) -> None:
    account_id = await _account(db.sessions, keybox)
    group = -77
    async with db.sessions() as session:
        repo = ActivationRepo(session)
        for n, (buyer, cost, state, day) in enumerate([
            (1, 10.0, S.COMPLETED, 1), (1, 2.5, S.WAITING, 2), (2, 7.25, S.RECEIVED, 2),
            (2, 100.0, S.CANCELLED, 2), (3, 50.0, S.EXPIRED, 3), (2, 1.1, S.RETRY, 3),
            (3, 0.3, S.PROVIDER_CANCELLED, 3),
        ], start=1):
            await repo.add(activation(account_id, provider_id=n, chat_id=group, buyer_id=buyer,
                                      cost=cost, state=state,
                                      bought_at=T0 + timedelta(days=day)))
        await repo.add(activation(account_id, provider_id=99, chat_id=5, cost=1000.0))
        assert await repo.spending(group) == Spending(4, 20.85)
        assert await repo.spending(group, buyer_id=2) == Spending(2, 8.35)
        assert await repo.spending(group, buyer_id=3) == Spending(0, 0.0)
        assert await repo.spending(group, since=T0 + timedelta(days=2)) == Spending(3, 10.85)
        assert await repo.spending(123) == Spending(0, 0.0)
        assert await repo.spending_by_member(group) == [
            (1, Spending(2, 12.5)), (2, Spending(2, 8.35))]


async def test_recent_services(db: Db, keybox: KeyBox) -> None:
    account_id = await _account(db.sessions, keybox)
    async with db.sessions() as session:
        repo = ActivationRepo(session)
        for n, (buyer, service) in enumerate([
            (1, "tg"), (1, "wa"), (1, "tg"), (1, "vk"), (2, "ig"), (1, "go"), (1, "wa"),
        ], start=1):
            await repo.add(activation(account_id, provider_id=n, buyer_id=buyer, service=service))
        assert await repo.recent_services(1) == ["wa", "go", "vk", "tg"]
        assert await repo.recent_services(1, limit=2) == ["wa", "go"]
        assert await repo.recent_services(2) == ["ig"]
        assert await repo.recent_services(3) == []


# --- codes ------------------------------------------------------------------------------


async def test_codes(db: Db, keybox: KeyBox) -> None:
    account_id = await _account(db.sessions, keybox)
    async with db.sessions() as session:
        acts, codes = ActivationRepo(session), CodeRepo(session)
        first = await acts.add(activation(account_id, provider_id=1))
        second = await acts.add(activation(account_id, provider_id=2))
        one = await codes.record(first, "111", "code 111")
        assert one is not None
        assert one.seq == 1
        assert one.received_at.tzinfo is not None
        assert await codes.record(first, "111", "code 111") is None  # the same code again
        # WAIT_RETRY repeats the old code while waiting for the next one: ignored.
        assert await codes.record(first, "000", None, ignore=["000"]) is None
        two = await codes.record(first, "222", None)
        assert two is not None
        assert two.seq == 2
        # The same digits can legitimately come again after another one.
        again = await codes.record(first, "111", "again")
        assert again is not None
        assert again.seq == 3
        other = await codes.record(second, "999", None)
        assert other is not None

        assert [c.code for c in await codes.for_activation(first.id or 0)] == [
            "111", "222", "111"]
        grouped = await codes.for_activations([first.id or 0, second.id or 0, 12345])
        assert {k: [c.code for c in v] for k, v in grouped.items()} == {
            first.id: ["111", "222", "111"], second.id: ["999"], 12345: []}
        assert await codes.for_activations([]) == {}

        assert [c.code for c in await codes.undelivered()] == ["111", "222", "111", "999"]
        await codes.mark_delivered(one, 555)
        await codes.mark_delivered(other, None)
    async with db.sessions() as session:
        codes = CodeRepo(session)
        assert [(c.code, c.seq) for c in await codes.undelivered()] == [("222", 2), ("111", 3)]
        stored = await codes.for_activation(first.id or 0)
        assert (stored[0].delivered, stored[0].message_id) == (True, 555)
        assert stored[0].text == "code 111"


async def test_big_telegram_ids_fit(db: Db, keybox: KeyBox) -> None:
    big_user, big_group = 7_999_999_999, -1_002_345_678_901
    async with db.sessions() as session:
        await UserRepo(session).get_or_create(big_user)
        account = await AccountRepo(session, keybox).set_key(big_group, API_KEY, big_user)
        row = await ActivationRepo(session).add(activation(
            account.id, provider_id=9_000_000_001, chat_id=big_group, buyer_id=big_user))
    async with db.sessions() as session:
        assert await session.get(User, big_user) is not None
        stored = await ActivationRepo(session).get(row.id or 0)
        assert stored is not None
        assert (stored.chat_id, stored.buyer_id, stored.provider_id) == (
            big_group, big_user, 9_000_000_001)


# --- the state machine ------------------------------------------------------------------

ALLOWED = {
    (S.WAITING, S.RECEIVED), (S.WAITING, S.CANCELLED), (S.WAITING, S.EXPIRED),
    (S.WAITING, S.PROVIDER_CANCELLED), (S.WAITING, S.UNKNOWN),
    (S.RECEIVED, S.RETRY), (S.RECEIVED, S.COMPLETED), (S.RECEIVED, S.PROVIDER_CANCELLED),
    (S.RETRY, S.RECEIVED), (S.RETRY, S.COMPLETED), (S.RETRY, S.PROVIDER_CANCELLED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_state_machine(current: ActivationState, target: ActivationState) -> None:
    if current == target or (current, target) in ALLOWED:
        assert can_move(current, target)
        assert check_move(current, target) == target
    else:
        assert not can_move(current, target)
        with pytest.raises(InvalidTransition, match=f"from {current} to {target}"):
            check_move(current, target)


def test_state_sets() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {S.COMPLETED, S.CANCELLED, S.EXPIRED, S.PROVIDER_CANCELLED, S.UNKNOWN} == FINAL_STATES
    assert {S.WAITING, S.RECEIVED, S.RETRY} == ACTIVE_STATES
    assert all(state.is_final for state in FINAL_STATES)
    assert not any(state.is_final for state in ACTIVE_STATES)
    assert {s for s in S if s.has_code} == {S.RECEIVED, S.RETRY, S.COMPLETED}
    assert all(not TRANSITIONS[s] for s in FINAL_STATES)


async def test_codes_and_sms_texts_of_any_length_are_stored(db: Db, keybox: KeyBox) -> None:
    """On PostgreSQL a 64-character column refused longer codes (and the poller retried)."""
    account_id = await _account(db.sessions, keybox)
    long_code = "G-" + "7" * 78
    long_text = "Your code: " + "лорем ипсум " * 400
    async with db.sessions() as session:
        a = await ActivationRepo(session).add(activation(account_id, provider_id=1))
        row = await CodeRepo(session).record(a, long_code, long_text)
        assert row is not None
    async with db.sessions() as session:
        stored = await CodeRepo(session).for_activation(a.id or 0)
    assert [(c.code, c.text) for c in stored] == [(long_code, long_text)]


async def test_a_session_that_only_read_holds_no_connection(db: Db, keybox: KeyBox) -> None:
    """Handlers keep their session while they wait for the provider: reads must give the
    connection back at once, writes keep theirs until they commit."""
    pool = db.engine.pool
    account_id = await _account(db.sessions, keybox)
    async with db.sessions() as session:
        user = await UserRepo(session).get_or_create(7, "en")
        assert await AccountRepo(session, keybox).get(account_id) is not None
        assert await ActivationRepo(session).history(7) == []
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        user.language = "ru"  # a change in progress is not committed by a read
        assert await UserRepo(session).favourites(7) == []
        assert pool.checkedout() == 1  # type: ignore[attr-defined]
        await UserRepo(session).save(user)
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    async with db.sessions() as session:
        stored = await UserRepo(session).get(7)
        assert stored is not None
        assert stored.language == "ru"
