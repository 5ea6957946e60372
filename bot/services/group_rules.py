"""Rules a group's admins set for buying with the group's account (/groupsettings), the
reservations that enforce them, and the group's spending per member (/stats).

A purchase calls reserve() before any money moves: every rule is checked, and the price
(daily limit) and a slot (running limit) are held so that two members buying at the same
moment cannot together go over a limit. Reservations of one group are serialised in the
database (see GroupRulesRepo.lock), so this holds across processes, on SQLite and on
PostgreSQL. Then confirm() once bought (the activation itself counts from then on) or
release() when the purchase failed.

Days, weeks (from Monday) and months are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from storage.db import SessionFactory
from storage.models import GroupReservation, utcnow
from storage.repo import ActivationRepo, CodeRepo
from storage.repos.activations import CHARGED_STATES, REFUNDED_STATES
from storage.repos.group_rules import CONFIRMED, HELD, RELEASED, GroupRulesRepo
from storage.states import ActivationState

WhoMayBuy = Literal["all", "admins", "chosen"]
CodesTo = Literal["group", "buyer"]
WHO_MAY_BUY: tuple[WhoMayBuy, ...] = ("all", "admins", "chosen")
CODES_TO: tuple[CodesTo, ...] = ("group", "buyer")
# A held reservation older than this belongs to a purchase that never came back (a crash):
# it stops holding room. A purchase's outcome is known well within it.
HOLD_FOR = timedelta(minutes=15)
_EPSILON = 1e-9  # prices are floats: 10.0 + 10.0 must fit a limit of 20.0


@dataclass(frozen=True, slots=True)
class GroupRules:
    who_may_buy: WhoMayBuy = "all"
    chosen: frozenset[int] = frozenset()
    daily_limit: float | None = None  # per member, per UTC day, in the account's currency
    running_limit: int | None = None  # numbers one member may have running at once
    codes_to: CodesTo = "group"


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    chat_id: int
    member_id: int
    amount: float


@dataclass(frozen=True, slots=True)
class RuleRefusal:
    """Which rule refused: "who_may_buy" (value: the setting), "daily_limit" (limit,
    used: spent today including purchases in flight), "running_limit" (limit, used:
    numbers running including purchases in flight)."""

    rule: Literal["who_may_buy", "daily_limit", "running_limit"]
    value: str = ""
    limit: float = 0.0
    used: float = 0.0


@dataclass(frozen=True, slots=True)
class MemberStats:
    member_id: int
    today: float
    week: float
    month: float
    bought: int  # numbers bought this month
    codes: int  # codes received this month
    refunds: int  # numbers refunded this month
    refunded: float


@dataclass(frozen=True, slots=True)
class GroupStats:
    members: tuple[MemberStats, ...]  # most spent this month first
    currency: int | None


def period_starts(now: datetime) -> tuple[datetime, datetime, datetime]:
    """Start of today, of this week (Monday) and of this month, UTC."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day - timedelta(days=day.weekday()), day.replace(day=1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class GroupRulesService:
    def __init__(self, db: SessionFactory) -> None:
        self.db = db

    async def rules(self, chat_id: int) -> GroupRules:
        async with self.db() as session:
            repo = GroupRulesRepo(session)
            row = await repo.settings(chat_id)
            chosen = frozenset(m.user_id for m in await repo.chosen(chat_id))
        if row is None:  # nothing set yet (members may be chosen before any other rule)
            return GroupRules(chosen=chosen)
        return GroupRules(who_may_buy=_who(row.who_may_buy), chosen=chosen,
                          daily_limit=row.member_limit, running_limit=row.running_limit,
                          codes_to="buyer" if row.codes_to == "buyer" else "group")

    async def reserve(self, chat_id: int, member_id: int, price: float, *,
                      is_admin: bool) -> Reservation | RuleRefusal:
        async with self.db() as session:
            repo = GroupRulesRepo(session)
            await repo.ensure(chat_id)
            row = await repo.lock(chat_id)  # held until commit or rollback below
            try:
                refusal = await self._check(repo, chat_id, member_id, price,
                                            is_admin=is_admin, who=_who(row.who_may_buy),
                                            daily=row.member_limit,
                                            running=row.running_limit)
            except BaseException:
                await session.rollback()
                raise
            if refusal is not None:
                await session.rollback()
                return refusal
            held = await repo.add_reservation(GroupReservation(
                chat_id=chat_id, member_id=member_id, amount=max(price, 0.0)))
        assert held.id is not None
        return Reservation(held.id, chat_id, member_id, held.amount)

    async def _check(self, repo: GroupRulesRepo, chat_id: int,
                     member_id: int, price: float, *, is_admin: bool, who: WhoMayBuy,
                     daily: float | None, running: int | None) -> RuleRefusal | None:
        if not is_admin and who == "admins":
            return RuleRefusal("who_may_buy", value=who)
        if (not is_admin and who == "chosen"
                and member_id not in {m.user_id for m in await repo.chosen(chat_id)}):
            return RuleRefusal("who_may_buy", value=who)
        if daily is None and running is None:
            return None
        now = utcnow()
        held_count, held_amount = await repo.held(chat_id, member_id, now - HOLD_FOR)
        activations = ActivationRepo(repo.session)
        if daily is not None:
            today = period_starts(now)[0]
            spent = (await activations.spending(chat_id, buyer_id=member_id,
                                                since=today)).total + held_amount
            if spent + price > daily + _EPSILON:
                return RuleRefusal("daily_limit", limit=daily, used=round(spent, 4))
        if running is not None:
            busy = len(await activations.active_in_chat(chat_id, member_id)) + held_count
            if busy + 1 > running:
                return RuleRefusal("running_limit", limit=running, used=busy)
        return None

    async def confirm(self, reservation: Reservation, activation_id: int) -> None:
        """Bought: the activation (stored before this call) counts from now on."""
        async with self.db() as session:
            await GroupRulesRepo(session).settle(reservation.id, CONFIRMED, activation_id)

    async def release(self, reservation: Reservation) -> None:
        """Nothing bought: give the room back."""
        async with self.db() as session:
            await GroupRulesRepo(session).settle(reservation.id, RELEASED, None)

    # -- settings (/groupsettings) ------------------------------------------------------
    async def update(self, chat_id: int, *, who_may_buy: WhoMayBuy | None = None,
                     daily_limit: float | Literal["keep"] | None = "keep",
                     running_limit: int | Literal["keep"] | None = "keep",
                     codes_to: CodesTo | None = None) -> GroupRules:
        async with self.db() as session:
            repo = GroupRulesRepo(session)
            await repo.ensure(chat_id)
            row = await repo.settings(chat_id)
            assert row is not None
            if who_may_buy is not None:
                row.who_may_buy = who_may_buy
            if daily_limit != "keep":
                row.member_limit = daily_limit
            if running_limit != "keep":
                row.running_limit = running_limit
            if codes_to is not None:
                row.codes_to = codes_to
            await repo.save(row)
        return await self.rules(chat_id)

    async def toggle_member(self, chat_id: int, user_id: int, name: str) -> bool:
        async with self.db() as session:
            return await GroupRulesRepo(session).toggle_member(chat_id, user_id, name)

    async def candidates(self, chat_id: int, limit: int = 8) -> list[tuple[int, str]]:
        """Members an admin may choose from: those chosen already (with the name they had
        then), then the group's recent buyers (name "": the caller looks it up)."""
        async with self.db() as session:
            repo = GroupRulesRepo(session)
            chosen = [(m.user_id, m.name) for m in await repo.chosen(chat_id)]
            recent = await repo.recent_buyers(chat_id, limit)
        seen = {uid for uid, _ in chosen}
        return chosen + [(uid, "") for uid in recent if uid not in seen]

    async def migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup (migrate_to_chat_id): the rules follow it. For
        g1's GroupService.migrated to call."""
        async with self.db() as session:
            await GroupRulesRepo(session).move(old_chat_id, new_chat_id)

    # -- accounting (/stats) ------------------------------------------------------------
    async def stats(self, chat_id: int, now: datetime | None = None) -> GroupStats:
        day, week, month = period_starts(now or utcnow())
        async with self.db() as session:
            rows = await GroupRulesRepo(session).since(chat_id, min(week, month))
            codes = await CodeRepo(session).for_activations(
                row.id for row in rows if row.id is not None)
        per: dict[int, dict[str, float]] = {}
        currency: int | None = None
        for row in rows:
            bought = _aware(row.bought_at)
            entry = per.setdefault(row.buyer_id, dict.fromkeys(
                ("today", "week", "month", "bought", "codes", "refunds", "refunded"), 0.0))
            state = ActivationState(row.state)
            charged = state in CHARGED_STATES
            cost = row.cost if charged else 0.0
            currency = row.currency if row.currency is not None else currency
            if bought >= day:
                entry["today"] += cost
            if bought >= week:
                entry["week"] += cost
            if bought >= month:
                entry["month"] += cost
                entry["bought"] += 1
                entry["codes"] += len(codes.get(row.id or 0, []))
                if state in REFUNDED_STATES:
                    entry["refunds"] += 1
                    entry["refunded"] += row.cost
        members = [MemberStats(uid, round(v["today"], 4), round(v["week"], 4),
                               round(v["month"], 4), int(v["bought"]), int(v["codes"]),
                               int(v["refunds"]), round(v["refunded"], 4))
                   for uid, v in per.items()]
        members.sort(key=lambda m: (-m.month, -m.week, m.member_id))
        return GroupStats(tuple(members), currency)


def _who(value: str) -> WhoMayBuy:
    return value if value in ("admins", "chosen") else "all"  # type: ignore[return-value]


__all__ = ["CODES_TO", "HELD", "WHO_MAY_BUY", "CodesTo", "GroupRules", "GroupRulesService",
           "GroupStats", "MemberStats", "Reservation", "RuleRefusal", "WhoMayBuy",
           "period_starts"]
