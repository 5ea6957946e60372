"""Prometheus metrics, one registry per bot (not prometheus_client's global one: tests and
the playground build several bots in one process, and each must count only its own).

Instrumented code gets small callbacks (``observe_provider``, ``observe_tick``, ...) so it
does not import prometheus_client; `build_app` wires them to a `Metrics`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func
from sqlmodel import col, select

from storage.db import SessionFactory
from storage.models import Activation
from storage.states import ActivationState

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

    from storage.models import Code

# Seconds. Delivery: from the poller seeing the SMS to the code message sent; most take one
# request, a flood wait or a retry after a fault can take much longer.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)
HANDLER_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
TICK_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter("koalabot_updates", "Telegram updates handled, by type",
                               ["type"], registry=r)
        self.handler_seconds = Histogram(
            "koalabot_handler_seconds", "Time spent handling one update", ["type"],
            buckets=HANDLER_BUCKETS, registry=r)
        self.provider_calls = Counter(
            "koalabot_provider_calls", "Requests to the provider by action and outcome "
            "(ok, refused: an error answer such as NO_NUMBERS, failed: no usable answer)",
            ["action", "outcome"], registry=r)
        self.tick_seconds = Histogram("koalabot_poll_tick_seconds", "Duration of a poll tick",
                                      buckets=TICK_BUCKETS, registry=r)
        self.activations = Gauge("koalabot_activations", "Activations by state (read from "
                                 "the database when scraped)", ["state"], registry=r)
        self.codes_delivered = Counter("koalabot_codes_delivered",
                                       "Codes sent to their chat", registry=r)
        self.delivery_seconds = Histogram(
            "koalabot_code_delivery_seconds", "From the SMS seen by the poller to the code "
            "message sent", buckets=LATENCY_BUCKETS, registry=r)
        self.telegram_429 = Counter("koalabot_telegram_429",
                                    "Telegram flood control answers (429), by method",
                                    ["method"], registry=r)
        # For /healthz: when the poller last finished a tick (monotonic clock).
        self.last_tick_at: float | None = None
        self.started_at = time.monotonic()
        # Recent delivery latencies, for /stats' exact percentiles (the histogram only
        # has buckets).
        self.recent_latencies: deque[float] = deque(maxlen=1000)

    # --- callbacks given to the instrumented code ---------------------------------------

    def observe_provider(self, action: str, outcome: str) -> None:
        self.provider_calls.labels(action, outcome).inc()

    def observe_tick(self, seconds: float) -> None:
        self.tick_seconds.observe(seconds)
        self.last_tick_at = time.monotonic()

    def code_delivered(self, code: Code) -> None:
        self.codes_delivered.inc()
        received = code.received_at
        if received.tzinfo is None:  # SQLite hands naive UTC back on some paths
            received = received.replace(tzinfo=UTC)
        latency = max(0.0, (datetime.now(UTC) - received).total_seconds())
        self.delivery_seconds.observe(latency)
        self.recent_latencies.append(latency)

    def provider_totals(self) -> tuple[int, int]:
        """(calls, calls that failed) since this process started."""
        calls = failed = 0
        for metric in self.provider_calls.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    calls += int(sample.value)
                    if sample.labels.get("outcome") == "failed":
                        failed += int(sample.value)
        return calls, failed

    # --- scraping -----------------------------------------------------------------------

    async def refresh(self, db: SessionFactory) -> None:
        """Values read from the database rather than counted: right whichever instance
        changed them, and right after a restart."""
        async with db() as session:
            rows = await session.exec(
                select(Activation.state, func.count()).group_by(col(Activation.state)))
            counts = {str(state): int(n) for state, n in rows.all()}
        for state in ActivationState:
            self.activations.labels(state.value).set(counts.get(state.value, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateMetrics(BaseMiddleware):
    """Outer update middleware, outermost: counts every update and times its handling."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        self.metrics.updates.labels(kind).inc()
        started = time.monotonic()
        try:
            return await handler(event, data)
        finally:
            self.metrics.handler_seconds.labels(kind).observe(time.monotonic() - started)


class RetryAfterCounter(BaseRequestMiddleware):
    """Session middleware registered after RetryAfterMiddleware, so it sits closer to the
    request and sees every 429, also those the flood middleware then waits out."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.telegram_429.labels(type(method).__name__).inc()
            raise
