"""Group links (the one-time deep links for a group's key) and moving a group's rows when
a basic group becomes a supergroup. The group's purchase rules: storage/repos/group_rules.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Account,
    Activation,
    GroupLink,
    GroupMember,
    GroupReservation,
    GroupSettings,
    PurchaseIntent,
    utcnow,
)


class GroupLinkRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token_hash: str, chat_id: int, admin_id: int,
                  expires_at: datetime) -> None:
        self.session.add(GroupLink(token_hash=token_hash, chat_id=chat_id, admin_id=admin_id,
                                   expires_at=expires_at))
        await self.session.commit()

    async def take(self, token_hash: str) -> GroupLink | None:
        """Mark the link used and return it; None when it does not exist or was already
        used. One UPDATE ... WHERE used_at IS NULL: two opens at once can't both win."""
        now = utcnow()
        result = await self.session.exec(
            update(GroupLink)
            .where(col(GroupLink.token_hash) == token_hash, col(GroupLink.used_at).is_(None))
            .values(used_at=now)
        )
        await self.session.commit()
        if not result.rowcount:
            return None
        return await self.session.get(GroupLink, token_hash)

    async def get(self, token_hash: str) -> GroupLink | None:
        return (await self.session.exec(
            select(GroupLink).where(GroupLink.token_hash == token_hash))).first()


async def move_group(session: AsyncSession, old: int, new: int) -> int:
    """A basic group became supergroup `new`: its account, history, settings, purchase
    intents and links follow it. Returns how many rows moved (0: already done)."""
    moved = 0
    tables: tuple[tuple[type[SQLModel], str], ...] = (
        (Account, "owner_id"), (Activation, "chat_id"), (PurchaseIntent, "chat_id"),
        (GroupLink, "chat_id"), (GroupMember, "chat_id"), (GroupReservation, "chat_id"))
    for model, name in tables:
        column = getattr(model, name)
        result = await session.exec(update(model).where(column == old).values({name: new}))
        moved += int(result.rowcount or 0)
    # group_settings is keyed by chat id: move it unless the new chat already has one.
    if await session.get(GroupSettings, new) is None:
        result = await session.exec(
            update(GroupSettings).where(col(GroupSettings.chat_id) == old).values(chat_id=new))
        moved += int(result.rowcount or 0)
    await session.commit()
    return moved
