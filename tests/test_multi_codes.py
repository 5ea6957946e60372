"""Several instances on PostgreSQL, in one process for speed: a code message whose send
was cut short by a dying instance is not sent again (the card shows the code), and a
changed key is dropped from every instance's key cache at its next tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.activations import ActivationManager
from bot.app import App, build_app, close_app, running
from bot.catalog import Catalog
from bot.coordination import Locks
from bot.coordination.sends import OnceOutbox
from bot.koala import KoalaClient
from bot.notifier import Notifier
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from storage.crypto import KeyBox
from storage.models import Code, CodeSend
from storage.repo import CodeRepo
from storage.repos.leases import INSTANCE, LeaseRepo
from tests.conftest import DEMO_KEY, SECRET, Person, make_settings
from tests.helpers import buy, code_messages, is_code, set_key, until
from tests.test_backends import needs_postgres, pg_database  # noqa: F401  (a fixture)

pytestmark = needs_postgres


@pytest.fixture
async def pg_app(tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
                 pg_database: str) -> AsyncIterator[App]:  # noqa: F811
    app = await build_app(make_settings(tmp_path, provider, tg, DATABASE_URL=pg_database),
                          koala_timeout=3.0, koala_backoff=0.01)
    try:
        async with running(app, polling_timeout=1):
            yield app
    finally:
        await close_app(app)




async def test_code_sends_are_signed_with_the_name_the_heartbeat_carries(
        pg_app: App, alice: Person, provider: ProviderSandbox) -> None:
    # The outbox once named itself apart from the instance's leases: to another instance
    # every send in progress then looked cut short by a dead one, and its code was marked
    # delivered without a message (two real instances lost codes that way).
    outbox = pg_app.manager.outbox
    assert isinstance(outbox, OnceOutbox)
    assert outbox.me == pg_app.instance
    await set_key(pg_app, alice)
    a = await buy(pg_app, alice)

    async def alive_to_the_others() -> bool:
        async with pg_app.db() as session:
            leases = LeaseRepo(await session.connection())
            return await leases.holder(INSTANCE + outbox.me) is not None

    await until(alive_to_the_others, "the instance's heartbeat under the outbox's name")
    provider.deliver_sms(a.provider_id, "4242")
    await alice.chat.wait_for(is_code("4242"), timeout=20)

async def test_a_send_cut_short_by_a_dead_instance_is_not_repeated(
        pg_app: App, alice: Person, provider: ProviderSandbox) -> None:
    await set_key(pg_app, alice)
    a = await buy(pg_app, alice)
    assert a.id is not None
    # What an instance killed mid-send leaves: the code stored, a send begun, no mark.
    async with pg_app.db() as session:
        code = Code(activation_id=a.id, seq=1, code="5555")
        session.add(code)
        await session.flush()
        assert code.id is not None
        session.add(CodeSend(code_id=code.id, holder="gone:1:dead00"))
        await session.commit()

    async def marked() -> bool:
        async with pg_app.db() as session:
            return all(c.delivered for c in await CodeRepo(session).for_activation(a.id or 0))

    await until(marked, "the cut-short code marked delivered")
    card = await alice.chat.wait_for(lambda m: m.message_id == a.card_message_id
                                     and "5555" in m.text, timeout=30)
    assert card is not None  # the code is in the chat: on its card
    assert code_messages(alice.chat, "5555") == []  # not sent a second time
    async with pg_app.engine.connect() as conn:  # the record of the send is gone
        assert (await conn.execute(text("SELECT count(*) FROM code_sends"))).scalar() == 0
    # The next code goes out as usual, once.
    provider.deliver_sms(a.provider_id, "6666")
    await alice.chat.wait_for(lambda m: m.text.startswith("🔑") and "6666" in m.text,
                              timeout=30)
    await alice.chat.wait_idle(quiet=1.0)
    assert len(code_messages(alice.chat, "6666")) == 1


async def test_a_removed_key_is_dropped_from_every_instances_cache(
        pg_app: App, alice: Person, tg: TelegramEmulator, pg_database: str) -> None:  # noqa: F811
    await set_key(pg_app, alice)
    a = await buy(pg_app, alice)
    # A second instance's money core on the same database.
    locks = Locks(pg_database)
    koala = KoalaClient(pg_app.settings.KOALA_API_URL, timeout=3.0)
    other = ActivationManager(db=pg_app.db, keybox=KeyBox(SECRET), koala=koala,
                              catalog=Catalog(), notifier=Notifier(pg_app.bot), locks=locks)
    try:
        for manager in (pg_app.manager, other):
            _, _, keys = await manager.running_for_poll()
            assert manager.poll_key(a.account_id, keys[a.account_id].key_encrypted) == DEMO_KEY
        async with pg_app.engine.begin() as conn:  # the key is forgotten in the database
            await conn.execute(text("UPDATE accounts SET key_encrypted = '' WHERE id = :i"),
                               {"i": a.account_id})
        for manager in (pg_app.manager, other):
            _, _, keys = await manager.running_for_poll()  # the tick's one query
            assert manager.poll_key(a.account_id, keys[a.account_id].key_encrypted) is None
            assert not manager._poll_keys  # nothing of the old key is kept
    finally:
        await koala.close()
        await locks.close()


async def test_two_instances_completing_one_activation_call_the_provider_once(
        pg_app: App, alice: Person, provider: ProviderSandbox,
        pg_database: str) -> None:  # noqa: F811
    await set_key(pg_app, alice)
    a = await buy(pg_app, alice)
    assert a.id is not None
    provider.deliver_sms(a.provider_id, "7777")
    await alice.chat.wait_for(lambda m: m.text.startswith("🔑") and "7777" in m.text,
                              timeout=30)
    locks = Locks(pg_database)  # a second instance's money core on the same database
    koala = KoalaClient(pg_app.settings.KOALA_API_URL, timeout=3.0)
    other = ActivationManager(db=pg_app.db, keybox=KeyBox(SECRET), koala=koala,
                              catalog=Catalog(), notifier=Notifier(pg_app.bot), locks=locks)
    try:
        asked = provider.calls("setStatus")
        results = await asyncio.gather(pg_app.manager.complete(a.id), other.complete(a.id))
        # One completes; the other waits for it, then finds the activation over.
        assert sorted(r.outcome.value for r in results) == ["done", "final"]
        assert provider.calls("setStatus") == asked + 1
    finally:
        await koala.close()
        await locks.close()


async def test_a_code_another_instance_just_sent_is_not_sent_again(
        pg_app: App, alice: Person, provider: ProviderSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.repos.sends import CodeSendRepo

    await set_key(pg_app, alice)
    a = await buy(pg_app, alice)
    assert a.id is not None
    real_begun = CodeSendRepo.begun
    raced: list[int] = []

    async def begun_after_the_other_finished(self: CodeSendRepo, code_id: int) -> CodeSend | None:
        # Between this sender's first look and its own row, the other instance sent the
        # code, marked it delivered and removed its row.
        if not raced:
            raced.append(code_id)
            async with pg_app.engine.begin() as conn:
                await conn.execute(text("UPDATE codes SET delivered = true WHERE id = :i"),
                                   {"i": code_id})
        return await real_begun(self, code_id)

    monkeypatch.setattr(CodeSendRepo, "begun", begun_after_the_other_finished)
    provider.deliver_sms(a.provider_id, "8888")

    async def seen() -> bool:
        return bool(raced)

    async def no_row_left() -> bool:
        async with pg_app.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM code_sends"))).scalar() == 0

    await until(seen, "the send to begin")
    # Its own row removed (waited for: on a loaded machine this takes a while), and then
    # nothing sent: the other instance's message is the one.
    await until(no_row_left, "the sender to remove its row")
    await alice.chat.wait_idle(quiet=1.5)
    assert code_messages(alice.chat, "8888") == []


async def test_a_code_a_live_instance_is_sending_is_left_to_it(
        pg_app: App, alice: Person) -> None:
    await set_key(pg_app, alice)
    a = await buy(pg_app, alice)
    assert a.id is not None
    other = "other:2:a11ve0"
    async with pg_app.engine.begin() as conn:  # another instance, alive, sending it now
        await conn.execute(text(
            "INSERT INTO leases (name, holder, expires_at) VALUES (:n, :h, "
            "clock_timestamp() + interval '1 hour')"), {"n": f"instance:{other}", "h": other})
    async with pg_app.db() as session:
        code = Code(activation_id=a.id, seq=1, code="4444")
        session.add(code)
        await session.flush()
        assert code.id is not None
        session.add(CodeSend(code_id=code.id, holder=other))
        await session.commit()
        code_id = code.id

    async def delivered() -> bool:
        async with pg_app.db() as session:
            found = await session.get(Code, code_id, populate_existing=True)
            return found is not None and found.delivered

    await asyncio.sleep(3.0)  # several pending rounds (not a timed assertion)
    assert not await delivered()  # not marked on the other's behalf
    assert code_messages(alice.chat, "4444") == []
    # That send fails (its row goes, the code is still undelivered): this instance sends it.
    async with pg_app.engine.begin() as conn:
        await conn.execute(text("DELETE FROM code_sends WHERE code_id = :i"), {"i": code_id})
    await until(delivered, "the code sent once its other sender gave up")
    await alice.chat.wait_for(lambda m: m.text.startswith("🔑") and "4444" in m.text,
                              timeout=30)
    await alice.chat.wait_idle(quiet=1.0)
    assert len(code_messages(alice.chat, "4444")) == 1
