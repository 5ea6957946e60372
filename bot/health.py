"""`/healthz` and `/metrics`: on the webhook server in webhook mode, on a small server of
their own (METRICS_HOST:METRICS_PORT) in polling mode."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # each check; a scraper must get an answer even when everything hangs


async def _database(app: App) -> None:
    async with app.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis(app: App) -> None:
    redis = getattr(app.dp.storage, "redis", None)
    if redis is not None:
        await redis.ping()


async def _provider(app: App) -> None:
    # No key is sent: any HTTP answer (BAD_KEY included) shows the provider is there.
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as http, \
            http.get(app.settings.KOALA_API_URL) as response:
        if response.status >= 500:
            raise RuntimeError(f"HTTP {response.status}")


async def _poller(app: App) -> None:
    if app.poller.job is None:
        raise RuntimeError("not running")
    last = app.metrics.last_tick_at or app.metrics.started_at
    # A tick never waits on slow work (bot/poller.py), so several missed ticks mean the
    # scheduler or the loop is stuck.
    allowed = max(30.0, 10 * app.poller.interval)
    if time.monotonic() - last > allowed:
        raise RuntimeError(f"no tick for {time.monotonic() - last:.0f} s")


async def check(app: App) -> dict[str, str]:
    """Each check's result: "ok", "off" (not configured) or what went wrong."""
    checks = {"database": _database, "provider": _provider, "poller": _poller}
    if app.settings.REDIS_URL:
        checks["redis"] = _redis
    names = list(checks)
    results = await asyncio.gather(
        *(asyncio.wait_for(checks[n](app), CHECK_TIMEOUT) for n in names),
        return_exceptions=True)
    report = {"redis": "off"}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            reason = "timed out" if isinstance(result, TimeoutError) else (
                f"{type(result).__name__}: {str(result).splitlines()[0] if str(result) else ''}")
            report[name] = reason.rstrip(": ")
        else:
            report[name] = "ok"
    return report


def add_routes(web_app: web.Application, app: App) -> None:
    async def healthz(_: web.Request) -> web.Response:
        report = await check(app)
        healthy = all(v in {"ok", "off"} for v in report.values())
        return web.Response(status=200 if healthy else 503, content_type="application/json",
                            text=json.dumps({"healthy": healthy, "checks": report}))

    async def metrics(_: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(app.metrics.refresh(app.db), CHECK_TIMEOUT)
        except Exception as exc:  # the counters are still worth scraping
            log.warning("activation counts not refreshed: %s", exc)
        response = web.Response(body=app.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)


class HealthServer:
    """The polling mode's own small HTTP server for the two routes."""

    def __init__(self, app: App, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if self._runner is not None:
            return
        web_app = web.Application()
        add_routes(web_app, self.app)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        log.info("health and metrics on http://%s:%s/", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
