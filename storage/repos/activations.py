"""Activations and the codes they received."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Account, Activation, Code, utcnow
from storage.states import ACTIVE_STATES, FINAL_STATES, ActivationState, check_move

# States whose price stays spent; the others were refunded. An unknown outcome counts as
# spent: no refund was confirmed.
CHARGED_STATES = frozenset({ActivationState.RECEIVED, ActivationState.RETRY,
                            ActivationState.COMPLETED, ActivationState.WAITING,
                            ActivationState.UNKNOWN})
REFUNDED_STATES = frozenset({ActivationState.CANCELLED, ActivationState.EXPIRED,
                             ActivationState.PROVIDER_CANCELLED})


@dataclass(frozen=True, slots=True)
class PollKey:
    """What the poller needs of a running activation's account, read with it."""

    key_encrypted: str | None  # None / empty: the key was forgotten
    currency: int | None  # None until an answer names it


@dataclass(frozen=True, slots=True)
class Spending:
    count: int
    total: float


# id, chat_id, state, bought_at, cancel_at, ends_at, card_refreshed_at (card_clocks)
CardClockRow = Row[int | None, int, ActivationState, datetime, datetime, datetime,
                   datetime | None]


class ActivationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, activation: Activation) -> Activation:
        self.session.add(activation)
        await self.session.commit()
        return activation

    async def get(self, activation_id: int) -> Activation | None:
        return await self.session.get(Activation, activation_id)

    async def by_provider_id(self, account_id: int, provider_id: int) -> Activation | None:
        return (await self.session.exec(
            select(Activation).where(Activation.account_id == account_id,
                                     Activation.provider_id == provider_id)
        )).first()

    async def save(self, activation: Activation) -> Activation:
        activation.updated_at = utcnow()
        self.session.add(activation)
        await self.session.commit()
        return activation

    async def move(self, activation: Activation, target: ActivationState) -> Activation:
        """Apply a state change allowed by the state machine and persist it."""
        activation.state = check_move(ActivationState(activation.state), target)
        if target in FINAL_STATES and activation.finished_at is None:
            activation.finished_at = utcnow()
            activation.cancel_requested = False
        return await self.save(activation)

    async def active(self) -> list[Activation]:
        rows = await self.session.exec(
            select(Activation).where(col(Activation.state).in_(ACTIVE_STATES))
            .order_by(col(Activation.id))
        )
        return list(rows.all())

    async def card_clocks(self) -> Sequence[CardClockRow]:
        """What the card refresh needs of each running activation with a card, as plain
        rows (id, chat_id, state, bought_at, cancel_at, ends_at, card_refreshed_at): every
        poller tick reads them, and building 1,000 ORM objects for that cost more than the
        check itself (bot/card_refresh.py)."""
        connection = await self.session.connection()  # Core: rows, no ORM identity map
        rows = await connection.execute(
            sa_select(col(Activation.id), col(Activation.chat_id), col(Activation.state),
                      col(Activation.bought_at), col(Activation.cancel_at),
                      col(Activation.ends_at), col(Activation.card_refreshed_at))
            .where(col(Activation.state).in_(ACTIVE_STATES),
                   col(Activation.card_message_id).is_not(None))
            .order_by(col(Activation.id))
        )
        return rows.all()

    async def active_with_keys(self) -> tuple[list[Activation], dict[int, PollKey]]:
        """The running activations and their accounts' encrypted keys, in one query
        (the poller's tick: no lookup per account)."""
        rows = await self.session.exec(
            select(Activation, Account.key_encrypted, Account.currency)
            .join(Account, col(Account.id) == col(Activation.account_id))
            .where(col(Activation.state).in_(ACTIVE_STATES))
            .order_by(col(Activation.id))
        )
        active: list[Activation] = []
        keys: dict[int, PollKey] = {}
        for activation, key_encrypted, currency in rows.all():
            active.append(activation)
            keys[activation.account_id] = PollKey(key_encrypted or None, currency)
        return active, keys

    async def active_in_chat(self, chat_id: int, buyer_id: int | None = None) -> list[Activation]:
        query = select(Activation).where(Activation.chat_id == chat_id,
                                         col(Activation.state).in_(ACTIVE_STATES))
        if buyer_id is not None:
            query = query.where(Activation.buyer_id == buyer_id)
        return list((await self.session.exec(query.order_by(col(Activation.id)))).all())

    async def history(self, chat_id: int, *, buyer_id: int | None = None, offset: int = 0,
                      limit: int = 5) -> list[Activation]:
        query = select(Activation).where(Activation.chat_id == chat_id)
        if buyer_id is not None:
            query = query.where(Activation.buyer_id == buyer_id)
        rows = await self.session.exec(
            query.order_by(col(Activation.id).desc()).offset(offset).limit(limit)
        )
        return list(rows.all())

    async def count(self, chat_id: int, *, buyer_id: int | None = None) -> int:
        query = select(func.count()).select_from(Activation).where(Activation.chat_id == chat_id)
        if buyer_id is not None:
            query = query.where(Activation.buyer_id == buyer_id)
        return int((await self.session.exec(query)).one())

    async def spending(self, chat_id: int, *, buyer_id: int | None = None,
                       since: datetime | None = None) -> Spending:
        """What was paid and not refunded, per chat (and per member in a group)."""
        query = select(func.count(), func.coalesce(func.sum(Activation.cost), 0.0)).where(
            Activation.chat_id == chat_id, col(Activation.state).in_(CHARGED_STATES)
        )
        if buyer_id is not None:
            query = query.where(Activation.buyer_id == buyer_id)
        if since is not None:
            query = query.where(col(Activation.bought_at) >= since)
        count, total = (await self.session.exec(query)).one()
        return Spending(int(count), round(float(total), 4))

    async def spending_by_member(self, chat_id: int) -> list[tuple[int, Spending]]:
        rows = await self.session.exec(
            select(Activation.buyer_id, func.count(), func.coalesce(func.sum(Activation.cost), 0.0))
            .where(Activation.chat_id == chat_id, col(Activation.state).in_(CHARGED_STATES))
            .group_by(col(Activation.buyer_id))
            .order_by(func.sum(Activation.cost).desc())
        )
        return [(int(b), Spending(int(c), round(float(t), 4))) for b, c, t in rows.all()]

    async def recent_services(self, buyer_id: int, limit: int = 6) -> list[str]:
        rows = await self.session.exec(
            select(Activation.service, func.max(Activation.id).label("last"))
            .where(Activation.buyer_id == buyer_id)
            .group_by(col(Activation.service))
            .order_by(func.max(Activation.id).desc())
            .limit(limit)
        )
        return [service for service, _ in rows.all()]


class CodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_activation(self, activation_id: int) -> list[Code]:
        rows = await self.session.exec(
            select(Code).where(Code.activation_id == activation_id).order_by(col(Code.seq))
        )
        return list(rows.all())

    async def for_activations(self, ids: Iterable[int]) -> dict[int, list[Code]]:
        id_list = list(ids)
        result: dict[int, list[Code]] = {i: [] for i in id_list}
        if not id_list:
            return result
        rows = await self.session.exec(
            select(Code).where(col(Code.activation_id).in_(id_list)).order_by(col(Code.seq))
        )
        for code in rows.all():
            result[code.activation_id].append(code)
        return result

    async def record(self, activation: Activation, code: str, text: str | None,
                     ignore: Sequence[str] = ()) -> Code | None:
        """Store a code unless it is already known (or one to ignore, such as the old code a
        WAIT_RETRY answer repeats). Returns the new row, or None when nothing is new."""
        assert activation.id is not None
        known = await self.for_activation(activation.id)
        if code in ignore or (known and known[-1].code == code):
            return None
        row = Code(activation_id=activation.id, seq=len(known) + 1, code=code, text=text)
        self.session.add(row)
        await self.session.commit()
        return row

    async def undelivered(self) -> list[Code]:
        rows = await self.session.exec(
            select(Code).where(col(Code.delivered).is_(False)).order_by(col(Code.id))
        )
        return list(rows.all())

    async def mark_delivered(self, code: Code, message_id: int | None) -> None:
        code.delivered = True
        code.message_id = message_id
        self.session.add(code)
        await self.session.commit()

