"""Wiring: builds the bot, the dispatcher and its dependencies, and runs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    AiogramError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import User
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.activations import ActivationManager
from bot.catalog import Catalog
from bot.commands import publish_commands
from bot.config import Settings
from bot.coordination import AccountLeases, Locks, instance_id, is_postgres, lease_ttl
from bot.event_loop import running_loop_name
from bot.flood import RetryAfterMiddleware
from bot.fsm_memory import MemoryStorage
from bot.gctune import settle_heap, trim_heap_forever
from bot.health import HealthServer
from bot.inline_filters import inline_pure_filters
from bot.intents import INTENT_WINDOW
from bot.koala import KoalaClient
from bot.koala.client import SCREEN_BUDGET
from bot.limits import CallbackAnswerLimit
from bot.metrics import Metrics, RetryAfterCounter, UpdateMetrics
from bot.migrate import migrate_in_child
from bot.modes import poll_as_leader, run_webhook
from bot.notifier import Notifier
from bot.pacing import make_pacer
from bot.poller import Poller
from bot.prices import PriceCache
from bot.services.accounts import AccountService
from bot.services.activations import ActivationService
from bot.services.catalogue import CatalogueService
from bot.services.group_rules import GroupRulesService
from bot.services.groups import GroupService
from bot.services.history import HistoryService
from bot.services.ops import OpsService
from bot.services.purchase import PurchaseService
from bot.services.settings import SettingsService
from bot.services.snapshots import Lookups, watch_account_writes, watch_entry_writes
from bot.session import BotSession
from bot.texts import load as load_texts
from handlers import get_routers
from handlers.middlewares import CallbackAnswers, ContextMiddleware
from handlers.routing import AreaDispatcher
from storage.crypto import KeyBox
from storage.db import SessionFactory, create_engine, migrate, session_factory

log = logging.getLogger(__name__)

# Only for the sandbox and tests; a real deployment must set SECRET_KEY (config enforces it).
SANDBOX_SECRET = "sandbox-secret-do-not-use-in-production"


@dataclass
class App:
    """Everything a running bot owns, so tests and main() start and stop it the same way."""

    settings: Settings
    engine: AsyncEngine
    db: SessionFactory
    keybox: KeyBox
    koala: KoalaClient
    catalog: Catalog
    bot: Bot
    dp: Dispatcher
    manager: ActivationManager
    poller: Poller
    context: ContextMiddleware
    metrics: Metrics
    # Several instances (bot/coordination): this one's name, its locks (shared on
    # PostgreSQL), and polling mode's health server (None: webhook mode or off).
    instance: str = ""
    locks: Locks | None = None
    health: HealthServer | None = None


def make_bot(settings: Settings) -> Bot:
    session = BotSession(api=TelegramAPIServer.from_base(settings.TELEGRAM_API_URL))
    session.middleware(RetryAfterMiddleware())
    session.middleware(CallbackAnswerLimit())
    return Bot(
        token=settings.BOT_TOKEN.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML,
                                     link_preview_is_disabled=True),
    )


def make_storage(settings: Settings) -> BaseStorage:
    if settings.REDIS_URL:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.REDIS_URL)
    return MemoryStorage()


async def build_app(settings: Settings, *, koala_timeout: float = 15.0,
                    koala_backoff: float = 0.5, reconcile_delay: float = 1.0,
                    intent_window: float = INTENT_WINDOW,
                    screen_budget: float = SCREEN_BUDGET,
                    engine_options: dict[str, Any] | None = None,
                    migrate_apart: bool = False) -> App:
    """Create every dependency and the dispatcher; migrations are applied here, in a child
    process with `migrate_apart` (`python -m bot`: Alembic stays out of the long-running
    process; tests, which build many bots, migrate in-process)."""
    load_texts()
    engine = create_engine(settings.DATABASE_URL, **(engine_options or {}))
    # Once, even when instances start together (an advisory lock), either way.
    if migrate_apart:
        await migrate_in_child(settings.DATABASE_URL, log_format=settings.LOG_FORMAT)
    else:
        await migrate(engine)
    db = session_factory(engine)
    me = instance_id()
    shared = is_postgres(settings.DATABASE_URL)
    locks = Locks(settings.DATABASE_URL, instance=me)  # in-process only on SQLite
    log.info("instance %s (%s, %s event loop)", me, "shared work: PostgreSQL leases" if shared
             else "one instance: SQLite", running_loop_name())
    secret = settings.SECRET_KEY.get_secret_value() if settings.SECRET_KEY else SANDBOX_SECRET
    keybox = KeyBox(secret)
    koala = KoalaClient(settings.KOALA_API_URL, timeout=koala_timeout, backoff=koala_backoff)
    catalog = Catalog()
    bot = make_bot(settings)
    notifier = Notifier(bot, pacer=make_pacer(settings.REDIS_URL,
                                              namespace=f"koalabot:pace:{bot.id}"))
    manager = ActivationManager(db=db, keybox=keybox, koala=koala, catalog=catalog,
                                notifier=notifier, reconcile_delay=reconcile_delay,
                                intent_window=intent_window, locks=locks)
    leases = (AccountLeases(engine, me, ttl=lease_ttl(settings.POLL_INTERVAL))
              if shared else None)
    poller = Poller(manager=manager, interval=settings.POLL_INTERVAL, leases=leases)
    dp = AreaDispatcher(
        storage=make_storage(settings),
        settings=settings,
        db=db,
        keybox=keybox,
        koala=koala,
        catalog=catalog,
        prices=PriceCache(koala),
        manager=manager,
        notifier=notifier,
        poller=poller,
    )
    # Services, received by handlers by parameter name.
    # Rows every update reads, kept in memory when this is the only instance (snapshots.py).
    accounts = AccountService(db, keybox, koala, Lookups.for_instances(several=shared))
    watch_account_writes(engine, accounts.lookups.accounts)
    watch_entry_writes(engine, accounts.lookups.entries)
    dp["accounts"] = accounts
    dp["settings_service"] = SettingsService(db, catalog, accounts.lookups)
    dp["history"] = HistoryService(db, catalog)
    dp["activations"] = ActivationService(db, manager)
    dp["groups"] = groups = GroupService(db, bot, accounts)  # admins, group keys, migration
    dp["group_rules"] = group_rules = GroupRulesService(db)
    context = ContextMiddleware(accounts, notifier, screen_budget=screen_budget)
    metrics = Metrics()
    koala.observe = metrics.observe_provider
    poller.observe_tick = metrics.observe_tick
    manager.outbox.code_delivered = metrics.code_delivered
    bot.session.middleware(RetryAfterCounter(metrics))
    dp["ops"] = OpsService(db, metrics, frozenset(settings.ADMIN_IDS))  # for /stats
    dp.update.outer_middleware(UpdateMetrics(metrics))  # first: counts what context times
    # Buy area services (r1b), received by handlers by parameter name.
    catalogue = CatalogueService(db, keybox, catalog, dp["prices"], accounts)
    dp["catalogue"] = catalogue
    dp["purchase"] = PurchaseService(db, keybox, koala, manager, catalogue,
                                     groups=groups, group_rules=group_rules)
    dp.update.outer_middleware(context)
    dp.callback_query.middleware(CallbackAnswers())
    dp.include_routers(*get_routers())
    inline_pure_filters(dp)  # F... and State filters on the loop, not in a thread
    dp.index_areas()  # an update goes straight to the handlers that can take it
    app = App(settings=settings, engine=engine, db=db, keybox=keybox, koala=koala,
              catalog=catalog, bot=bot, dp=dp, manager=manager, poller=poller,
              context=context, metrics=metrics, instance=me, locks=locks)
    # Polling mode: health and metrics on a port of their own, when asked for. (A webhook
    # server serves them itself, see _run_webhook.)
    health = app.health = (HealthServer(app, settings.METRICS_HOST, settings.METRICS_PORT)
                           if settings.METRICS_PORT and not settings.WEBHOOK_URL else None)

    async def on_startup(bot: Bot) -> None:
        with suppress(Exception):  # the bot works without a command menu
            await publish_commands(bot)
        try:  # purchases cut short by a crash: adopt, ask, or say nothing was bought
            await manager.intents.settle_open()
        except Exception:
            log.exception("open purchase intents not settled at start-up")
        await poller.start()
        if health is not None:
            await health.start()

    async def on_shutdown() -> None:
        if health is not None:
            await health.stop()
        await poller.stop()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return app


async def close_app(app: App) -> None:
    log.info("stopping: finishing the updates in flight")
    await app.context.drain(timeout=10.0)
    await app.dp["catalogue"].menus.drain()  # the menus those updates showed
    await app.poller.stop()
    await app.manager.notifier.close()  # codes not sent yet stay undelivered: sent on restart
    await app.koala.close()
    session = app.bot.session
    await (session.stop() if isinstance(session, BotSession) else session.close())
    await app.dp.storage.close()
    if app.locks is not None:
        await app.locks.close()
    await app.engine.dispose()


@asynccontextmanager
async def running(app: App, *, polling_timeout: int = 10) -> AsyncIterator[asyncio.Task[None]]:
    """Run the dispatcher's polling loop in a task (used by tests and the playground)."""
    task = asyncio.create_task(
        app.dp.start_polling(app.bot, handle_signals=False, close_bot_session=False,
                             polling_timeout=polling_timeout,
                             allowed_updates=app.dp.resolve_used_update_types())
    )
    try:
        yield task
    finally:
        with suppress(RuntimeError):
            await app.dp.stop_polling()
        with suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TokenRejected(Exception):
    """Telegram refused BOT_TOKEN (wrong or revoked): running on cannot help."""


async def check_token(bot: Bot, *, first_delay: float = 1.0, max_delay: float = 60.0) -> User:
    """getMe until Telegram answers. A refused token raises TokenRejected at once; while
    Telegram can't be reached, one log line per attempt and a growing wait (no traceback:
    a network outage is not a bug)."""
    delay = first_delay
    attempt = 1
    while True:
        try:
            return await bot.get_me()
        except (TelegramUnauthorizedError, TelegramNotFound) as exc:
            # Telegram answers 401 for a revoked token and 404 for one it never issued.
            raise TokenRejected(exc.message) from None
        except TelegramRetryAfter as exc:
            wait, reason = float(exc.retry_after), "flood control"
        except AiogramError as exc:  # network, 5xx, an answer that is not the Bot API's
            wait, reason = delay, _first_line(exc)
            delay = min(delay * 2, max_delay)
        log.warning("Telegram not reachable (attempt %d: %s); retrying in %.0f s",
                    attempt, reason, wait)
        await asyncio.sleep(wait)
        attempt += 1


async def _checked_token(settings: Settings) -> None:
    bot = make_bot(settings)
    try:
        me = await check_token(bot)
    finally:
        await bot.session.close()
    log.info("running as @%s", me.username)


async def run(settings: Settings, *, own_process: bool = False) -> None:
    """Long polling, or a webhook server when WEBHOOK_URL is set. `own_process` (set by
    `python -m bot`, not by tests that run several bots in one process) migrates in a child
    process (bot/migrate.py), keeps the start-up objects out of garbage collection and gives
    memory freed after bursts back to the system (bot/gctune.py)."""
    # Before anything else (migrations included): a bad token ends the start in one line.
    await _checked_token(settings)
    app = await build_app(settings, migrate_apart=own_process)
    trimming: asyncio.Task[None] | None = None
    if own_process:
        log.debug("%d start-up objects frozen out of garbage collection", settle_heap())
        trimming = asyncio.create_task(trim_heap_forever(), name="malloc_trim")
    try:
        if settings.WEBHOOK_URL:
            await run_webhook(app)
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)
            if is_postgres(app.settings.DATABASE_URL):
                await poll_as_leader(app)
            else:
                await app.dp.start_polling(app.bot, close_bot_session=False,
                                           allowed_updates=app.dp.resolve_used_update_types())
    finally:
        if trimming is not None:
            trimming.cancel()
        await close_app(app)
