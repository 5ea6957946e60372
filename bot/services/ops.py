"""The numbers /stats shows the operators (ADMIN_IDS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import func
from sqlmodel import col, select

from bot.metrics import Metrics
from storage.db import SessionFactory
from storage.models import Account, Activation, Code, User
from storage.states import ACTIVE_STATES


@dataclass(frozen=True)
class OpsStats:
    users: int
    accounts: int  # keys in use (not retired)
    running: int  # activations not finished
    codes_today: int  # codes delivered whose SMS came today (UTC)
    provider_calls: int  # by this instance, since it started
    provider_failed: int
    latency_p50: float | None  # seconds, over the recent deliveries of this instance
    latency_p95: float | None
    latency_samples: int

    @property
    def provider_error_rate(self) -> float | None:
        return self.provider_failed / self.provider_calls if self.provider_calls else None


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1): always one of the observed values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without float surprises
    return ordered[int(rank) - 1]


class OpsService:
    """The operators' numbers, for handlers (which reach neither storage nor metrics)."""

    def __init__(self, db: SessionFactory, metrics: Metrics, admin_ids: frozenset[int]) -> None:
        self.db = db
        self.metrics = metrics
        self.admin_ids = admin_ids

    def is_operator(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    async def stats(self) -> OpsStats:
        return await collect(self.db, self.metrics)


async def collect(db: SessionFactory, metrics: Metrics, now: datetime | None = None) -> OpsStats:
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    async with db() as session:
        async def count(query: object) -> int:
            return int((await session.exec(query)).one())  # type: ignore[call-overload]

        users = await count(select(func.count()).select_from(User))
        accounts = await count(select(func.count()).select_from(Account)
                               .where(col(Account.retired_at).is_(None)))
        running = await count(select(func.count()).select_from(Activation)
                              .where(col(Activation.state).in_([s.value for s in ACTIVE_STATES])))
        codes_today = await count(select(func.count()).select_from(Code)
                                  .where(col(Code.delivered).is_(True),
                                         col(Code.received_at) >= midnight))
    calls, failed = metrics.provider_totals()
    latencies = list(metrics.recent_latencies)
    return OpsStats(users=users, accounts=accounts, running=running, codes_today=codes_today,
                    provider_calls=calls, provider_failed=failed,
                    latency_p50=percentile(latencies, 0.5),
                    latency_p95=percentile(latencies, 0.95),
                    latency_samples=len(latencies))
