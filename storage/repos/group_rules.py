"""Group purchase rules, chosen members and the reservations that hold room for purchases
in flight (bot/services/group_rules.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activation, GroupMember, GroupReservation, GroupSettings

HELD, CONFIRMED, RELEASED = "held", "confirmed", "released"


class GroupRulesRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def settings(self, chat_id: int) -> GroupSettings | None:
        return await self.session.get(GroupSettings, chat_id)

    async def ensure(self, chat_id: int) -> None:
        """Create the group's row with the defaults if it has none (two callers at once:
        the second one's insert fails and the row is there all the same)."""
        if await self.session.get(GroupSettings, chat_id) is not None:
            return
        self.session.add(GroupSettings(chat_id=chat_id))
        try:
            await self.session.commit()
        except IntegrityError:
            await self.session.rollback()

    async def lock(self, chat_id: int) -> GroupSettings:
        """Serialise with every other reservation in this group until commit/rollback.

        The first statement is a write: PostgreSQL locks the row, SQLite takes its write
        lock at once (a read first would let two transactions see the same totals, and
        SQLite would refuse the later upgrade instead of waiting)."""
        await self.session.exec(
            update(GroupSettings).where(col(GroupSettings.chat_id) == chat_id)
            .values(version=GroupSettings.version + 1))
        return (await self.session.exec(
            select(GroupSettings).where(GroupSettings.chat_id == chat_id)
            .execution_options(populate_existing=True))).one()

    async def save(self, row: GroupSettings) -> None:
        self.session.add(row)
        await self.session.commit()

    async def held(self, chat_id: int, member_id: int, since: datetime) -> tuple[int, float]:
        """Reservations of a member still held (newer than `since`): count, amount."""
        count, total = (await self.session.exec(
            select(func.count(), func.coalesce(func.sum(GroupReservation.amount), 0.0))
            .where(GroupReservation.chat_id == chat_id, GroupReservation.member_id == member_id,
                   GroupReservation.state == HELD,
                   col(GroupReservation.created_at) >= since))).one()
        return int(count), float(total)

    async def add_reservation(self, reservation: GroupReservation) -> GroupReservation:
        self.session.add(reservation)
        await self.session.commit()
        return reservation

    async def settle(self, reservation_id: int, state: str, activation_id: int | None) -> None:
        await self.session.exec(
            update(GroupReservation).where(col(GroupReservation.id) == reservation_id,
                                           col(GroupReservation.state) == HELD)
            .values(state=state, activation_id=activation_id))
        await self.session.commit()

    async def chosen(self, chat_id: int) -> list[GroupMember]:
        rows = await self.session.exec(
            select(GroupMember).where(GroupMember.chat_id == chat_id)
            .order_by(col(GroupMember.added_at)))
        return list(rows.all())

    async def toggle_member(self, chat_id: int, user_id: int, name: str) -> bool:
        """Add the member to the chosen ones, or remove them; True when now chosen."""
        found = await self.session.get(GroupMember, (chat_id, user_id))
        if found is not None:
            await self.session.delete(found)
            await self.session.commit()
            return False
        self.session.add(GroupMember(chat_id=chat_id, user_id=user_id, name=name[:128]))
        try:
            await self.session.commit()
        except IntegrityError:  # chosen by another admin a moment ago
            await self.session.rollback()
        return True

    async def recent_buyers(self, chat_id: int, limit: int) -> list[int]:
        rows = await self.session.exec(
            select(Activation.buyer_id, func.max(Activation.id))
            .where(Activation.chat_id == chat_id)
            .group_by(col(Activation.buyer_id))
            .order_by(func.max(Activation.id).desc()).limit(limit))
        return [int(buyer) for buyer, _ in rows.all()]

    async def since(self, chat_id: int, moment: datetime) -> list[Activation]:
        rows = await self.session.exec(
            select(Activation).where(Activation.chat_id == chat_id,
                                     col(Activation.bought_at) >= moment)
            .order_by(col(Activation.id)))
        return list(rows.all())

    async def move(self, old_chat_id: int, new_chat_id: int) -> None:
        """A basic group became a supergroup: its rules, chosen members and reservations
        follow it (kept as they are if the new chat already has rules of its own)."""
        if await self.session.get(GroupSettings, new_chat_id) is None:
            await self.session.exec(
                update(GroupSettings).where(col(GroupSettings.chat_id) == old_chat_id)
                .values(chat_id=new_chat_id))
        taken = {m.user_id for m in await self.chosen(new_chat_id)}
        for member in await self.chosen(old_chat_id):
            if member.user_id not in taken:
                self.session.add(GroupMember(chat_id=new_chat_id, user_id=member.user_id,
                                             name=member.name, added_at=member.added_at))
            await self.session.delete(member)
        await self.session.exec(
            update(GroupReservation).where(col(GroupReservation.chat_id) == old_chat_id)
            .values(chat_id=new_chat_id))
        await self.session.commit()
