"""Two real `python -m bot` processes on one PostgreSQL database and one Redis, as two
containers of the compose file would run.

Webhook mode: the Telegram emulator posts updates to the two instances in turn (a load
balancer). 50 running activations over 10 keys: every code reaches its chat exactly once,
each account is asked about once per tick overall (not once per instance), a double tap
whose two presses reach the two instances buys once; then one instance is killed with -9
while codes arrive, and the other delivers the rest, nothing lost or doubled.

Polling mode: the second instance stands by while the first polls Telegram, and takes
over when the first is killed.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from bot.activations import ActivationManager
from bot.app import make_bot
from bot.catalog import Catalog
from bot.koala import KoalaClient
from bot.notifier import Notifier
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox
from bot.sandbox.telegram import EmuChat, TelegramEmulator
from bot.sandbox.telegram_webhooks import WebhookPusher
from storage.crypto import KeyBox
from storage.db import create_engine, migrate, session_factory
from storage.models import Activation
from storage.repo import AccountRepo
from tests.conftest import BOT_TOKEN, SECRET, make_settings
from tests.helpers import code_messages
from tests.test_backends import needs_postgres, needs_redis, pg_database  # noqa: F401  (a fixture)
from tests.test_e2e_buy import button_data, cards, open_confirm
from tests.test_ops_process import BotProcess, bot_running
from tests.test_webhook import free_port

ROOT = Path(__file__).resolve().parent.parent
POLL_INTERVAL = 0.5
WEBHOOK_SECRET = "multi-instance-webhook-secret"
KEYS = [f"multiKEY{i:02d}abcdefghijklmnopqrst" for i in range(10)]
PER_KEY = 5

# Two real processes on a 2-core machine beside the rest of the suite: their own waits
# (up to 120 s each) bound them, not the suite-wide 120 s.
pytestmark = [needs_postgres, needs_redis, pytest.mark.timeout(600)]


@pytest.fixture
def shared_db(pg_database: str) -> str:  # noqa: F811
    """The two instances' database: one of its own for the test, dropped afterwards."""
    return pg_database


@pytest.fixture
def shared_redis() -> str:
    # A database index of its own (0 is the default, 15 the FSM test's).
    return f"redis://127.0.0.1:6379/{random.randint(1, 14)}"


def bot_env(provider: ProviderSandbox, tg: TelegramEmulator, database: str, redis: str,
            **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH") or "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": BOT_TOKEN,
        "SECRET_KEY": SECRET,
        "KOALA_API_URL": f"{provider.base_url}{ENDPOINT_PATH}",
        "TELEGRAM_API_URL": str(tg.url),
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        "POLL_INTERVAL": str(POLL_INTERVAL),
        "LOG_LEVEL": "INFO",
        **extra,
    }


def logs(*processes: BotProcess) -> str:
    return "\n\n".join("\n".join(p.lines[-60:]) for p in processes)


async def wait_until(check: Callable[[], bool], what: str, *processes: BotProcess,
                     timeout: float = 90.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s\n{logs(*processes)}")
        await asyncio.sleep(0.1)


async def seed(provider: ProviderSandbox, tg: TelegramEmulator, database: str,
               tmp_path: Path) -> list[tuple[Activation, EmuChat]]:
    """What ten people with a key each and five numbers each leave in the database (bought
    before the instances start, so the test is about running them, not buying them)."""
    settings = make_settings(tmp_path, provider, tg, DATABASE_URL=database)
    engine = create_engine(database)
    await migrate(engine)
    db = session_factory(engine)
    keybox = KeyBox(SECRET)
    koala = KoalaClient(settings.KOALA_API_URL, timeout=5.0)
    telegram = make_bot(settings)
    manager = ActivationManager(db=db, keybox=keybox, koala=koala, catalog=Catalog(),
                                notifier=Notifier(telegram))
    bought: list[tuple[Activation, EmuChat]] = []
    try:
        for i, key in enumerate(KEYS):
            provider.add_account(key, balance=1000.0)
            user = tg.add_user(first_name=f"Person{i}", language_code="en")
            chat = tg.private_chat(user)
            async with db() as session:
                account = await AccountRepo(session, keybox).set_key(user.id, key, user.id)
            for _ in range(PER_KEY):
                a = await manager.purchase(account=account, chat_id=chat.id,
                                           buyer_id=user.id, service="tg", country=0,
                                           max_price=None)
                bought.append((await manager.send_card(a), chat))
    finally:
        await koala.close()
        await telegram.session.close()
        await engine.dispose()
    return bought


async def scrape(url: str) -> dict[str, float]:
    """The instance's /metrics, as {sample with labels: value}."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.text()
    samples: dict[str, float] = {}
    for line in body.splitlines():
        match = re.match(r"^(\S+)\s+(\S+)$", line)
        if match and not line.startswith("#"):
            samples[match.group(1)] = float(match.group(2))
    return samples


TICKS = "koalabot_poll_tick_seconds_count"
LISTS = 'koalabot_provider_calls_total{action="getActiveActivations",outcome="ok"}'


async def test_two_webhook_instances_share_the_work_and_survive_a_kill(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, shared_db: str,
        shared_redis: str) -> None:
    bought = await seed(provider, tg, shared_db, tmp_path)
    assert len(bought) == 50
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}/webhook" for p in ports]
    envs = [bot_env(provider, tg, shared_db, shared_redis, WEBHOOK_URL=url,
                    WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port),
                    WEBHOOK_SECRET=WEBHOOK_SECRET)
            for url, port in zip(urls, ports, strict=True)]
    pusher = WebhookPusher(tg, urls, secret=WEBHOOK_SECRET)
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(bot_running(envs[0], tmp_path))
        second = await stack.enter_async_context(bot_running(envs[1], tmp_path))
        # Generous: two processes import the bot at once on a loaded machine.
        await first.wait_line("webhook server listening", timeout=120)
        await second.wait_line("webhook server listening", timeout=120)
        await pusher.start()
        stack.push_async_callback(pusher.stop)

        def delivered(part: list[tuple[Activation, EmuChat]]) -> bool:
            return all(code_messages(chat, f"{a.id:05d}") for a, chat in part)

        # Codes for half of the numbers, with both instances up.
        for a, _ in bought[:25]:
            provider.deliver_sms(a.provider_id, f"{a.id:05d}")
        await wait_until(lambda: delivered(bought[:25]), "the first 25 codes", first, second)
        await wait_until(lambda: "2 instances live" in logs(first)
                         and "2 instances live" in logs(second), "both instances see each "
                         "other", first, second)

        # Provider calls per tick: about one per account overall, not one per instance.
        metrics = [url.replace("/webhook", "/metrics") for url in urls]
        before = [await scrape(m) for m in metrics]
        start = time.monotonic()
        await asyncio.sleep(4.0)  # a window of ticks to count in (not a timed assertion)
        until = time.monotonic()
        after = [await scrape(m) for m in metrics]
        ticks = [after[i][TICKS] - before[i][TICKS] for i in range(2)]
        lists = [after[i].get(LISTS, 0) - before[i].get(LISTS, 0) for i in range(2)]
        per_key = provider.calls_by_key("getActiveActivations", start, until)
        assert min(ticks) >= 2, (ticks, lists)
        assert all(n > 0 for n in lists), f"one instance polled nothing: {lists}"  # shared
        for key in KEYS:  # one instance per account: at most one ask per tick of one
            assert per_key.get(key, 0) <= max(ticks) + 2, (key, per_key, ticks)
        # Doubled polling would ask about len(KEYS) * (the ticks of both) times.
        total = sum(per_key.get(key, 0) for key in KEYS)
        assert total <= len(KEYS) * (max(ticks) + 2), (total, ticks)

        # A double tap whose presses reach the two instances buys once.
        buyer_chat = bought[0][1]
        confirm = await open_confirm(buyer_chat)
        data = button_data(confirm, "Buy for")
        numbers = provider.calls("getNumberV2")
        one, two = await asyncio.gather(buyer_chat.press_data(data, confirm.message_id,
                                                              timeout=60),
                                        buyer_chat.press_data(data, confirm.message_id,
                                                              timeout=60))
        assert {pusher.by_callback[one.id], pusher.by_callback[two.id]} == set(urls)
        await buyer_chat.wait_for("Waiting for the SMS", timeout=60)
        await buyer_chat.wait_idle(quiet=1.0, timeout=60)
        assert provider.calls("getNumberV2") == numbers + 1
        assert {one.text, two.text} & {"Already buying…", "Already bought: see the card."}
        assert len(cards(buyer_chat)) == PER_KEY + 1

        # One instance is killed while the rest of the codes arrive.
        rest = bought[25:]
        for a, _ in rest[:12]:
            provider.deliver_sms(a.provider_id, f"{a.id:05d}")
        first.proc.send_signal(signal.SIGKILL)
        await first.proc.wait()
        for a, _ in rest[12:]:
            provider.deliver_sms(a.provider_id, f"{a.id:05d}")
        await wait_until(lambda: delivered(bought), "every code after the kill", second,
                         timeout=120)
        await wait_until(lambda: "1 instances live" in logs(second), "the survivor alone",
                         second)
        # Some more ticks of the survivor over every account: nothing comes twice.
        asked = provider.calls("getActiveActivations")
        await wait_until(lambda: provider.calls("getActiveActivations") >= asked + 3 * 10,
                         "more polls", second)
        for a, chat in bought:
            assert len(code_messages(chat, f"{a.id:05d}")) == 1, chat.transcript()
        # SIGTERM: the survivor stops cleanly and hands its leases back.
        second.proc.send_signal(signal.SIGTERM)
        assert await second.finish(timeout=60) == 0
        engine = create_engine(shared_db)
        async with engine.connect() as conn:
            undelivered = (await conn.execute(text(
                "SELECT count(*) FROM codes WHERE NOT delivered"))).scalar_one()
            held = (await conn.execute(text(
                "SELECT count(*) FROM leases WHERE holder <> '' "
                "AND expires_at > clock_timestamp()"))).scalar_one()
        await engine.dispose()
        assert undelivered == 0
        assert held == 0


async def test_a_standby_takes_over_polling_when_the_leader_is_killed(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, shared_db: str,
        shared_redis: str) -> None:
    user = tg.add_user(first_name="Alice", language_code="en")
    chat = tg.private_chat(user)
    env = bot_env(provider, tg, shared_db, shared_redis)
    async with bot_running(env, tmp_path) as leader:
        await leader.wait_line("polling Telegram (leader)", timeout=120)
        async with bot_running(env, tmp_path) as standby:
            await standby.wait_line("standby: another instance is polling; waiting",
                                    timeout=120)
            await chat.send("/start")
            await chat.wait_for("KoalaSMS", timeout=60)
            leader.proc.send_signal(signal.SIGKILL)
            await leader.proc.wait()
            await standby.wait_line("taking over polling", timeout=60)
            await chat.send("/start")
            await wait_until(lambda: sum("KoalaSMS" in m.text for m in chat.bot_messages) >= 2,
                             "an answer from the new leader", standby)
            await chat.wait_idle(quiet=1.0, timeout=30)
            # Each /start answered once: never by two consumers.
            assert sum("KoalaSMS" in m.text for m in chat.bot_messages) == 2
            # A new standby told to stop while it waits ends cleanly too.
            async with bot_running(env, tmp_path) as waiting:
                await waiting.wait_line("standby: another instance is polling; waiting",
                                        timeout=120)
                waiting.proc.send_signal(signal.SIGTERM)
                assert await waiting.finish(timeout=60) == 0
            standby.proc.send_signal(signal.SIGTERM)
            assert await standby.finish(timeout=60) == 0
