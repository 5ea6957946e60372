"""How a built bot takes its updates: a webhook server, or long polling as the leader of
several instances (bot/coordination/leader.py). Plain one-instance polling is in
bot/app.py `run`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.coordination import Leader
from bot.health import add_routes as add_health_routes

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.app")  # the lines operators know ("webhook server listening")


async def run_webhook(app: App) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    settings = app.settings
    secret = settings.WEBHOOK_SECRET.get_secret_value() if settings.WEBHOOK_SECRET else None
    web_app = web.Application()
    SimpleRequestHandler(dispatcher=app.dp, bot=app.bot, secret_token=secret).register(
        web_app, path="/webhook")
    add_health_routes(web_app, app)
    setup_application(web_app, app.dp, bot=app.bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.WEBHOOK_HOST, settings.WEBHOOK_PORT)
    await site.start()
    # Listening first: Telegram may post as soon as the webhook is set.
    await app.bot.set_webhook(f"{settings.WEBHOOK_URL}", secret_token=secret,
                              allowed_updates=app.dp.resolve_used_update_types())
    log.info("webhook server listening on %s:%s", settings.WEBHOOK_HOST, settings.WEBHOOK_PORT)
    # SIGTERM ends the wait, so the caller's close_app finishes the updates in flight and
    # the poller's tick, and hands the account leases back to the other instances.
    stop = asyncio.Event()
    with _signals_set(stop):
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


async def poll_as_leader(app: App) -> None:
    """Polling mode on PostgreSQL: Telegram serves getUpdates to one consumer per token,
    so one instance polls and the others stand by (bot/coordination/leader.py). A standby
    still polls the provider for its share of the accounts and serves /healthz."""
    leader = Leader(app.engine, app.instance)
    stop = asyncio.Event()
    while True:
        await app.poller.start()
        if app.health is not None:
            await app.health.start()
        with _signals_set(stop):
            if not await leader.acquire(stop):
                return  # told to stop while standing by

        def lost() -> None:
            asyncio.get_running_loop().create_task(app.dp.stop_polling())

        leader.keep(lost)
        try:
            await app.dp.start_polling(app.bot, close_bot_session=False,
                                       allowed_updates=app.dp.resolve_used_update_types())
        finally:
            await leader.release()
        if not leader.lost:
            return


@contextmanager
def _signals_set(event: asyncio.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `event` while inside (aiogram's polling installs its own)."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, event.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
