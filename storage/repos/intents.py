"""Purchase intents (bot/intents.py settles them)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activation, PurchaseIntent, utcnow
from storage.states import ACTIVE_STATES

# Intent states: "open" and "ambiguous" still block another purchase on the same menu.
INTENT_OPEN = "open"
INTENT_ADOPTED = "adopted"
INTENT_NONE = "none"
INTENT_AMBIGUOUS = "ambiguous"
UNSETTLED_INTENTS = (INTENT_OPEN, INTENT_AMBIGUOUS)


class IntentRepo:
    """Purchase intents: written before getNumberV2 is sent, settled once its outcome is known."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, intent: PurchaseIntent) -> PurchaseIntent:
        self.session.add(intent)
        await self.session.commit()
        return intent

    async def get(self, intent_id: int) -> PurchaseIntent | None:
        return await self.session.get(PurchaseIntent, intent_id)

    async def open(self) -> list[PurchaseIntent]:
        """Intents whose outcome is still being looked for (not those waiting for the user)."""
        rows = await self.session.exec(
            select(PurchaseIntent).where(PurchaseIntent.state == INTENT_OPEN)
            .order_by(col(PurchaseIntent.id)))
        return list(rows.all())

    async def unanswered(self, before: datetime) -> list[PurchaseIntent]:
        """Ambiguous intents whose question was asked before `before` and never answered."""
        rows = await self.session.exec(
            select(PurchaseIntent).where(PurchaseIntent.state == INTENT_AMBIGUOUS,
                                         col(PurchaseIntent.requested_at) < before))
        return list(rows.all())

    async def blocking(self, chat_id: int, service: str,
                       message_id: int | None = None) -> PurchaseIntent | None:
        """An unsettled intent of this chat for the service, or on this menu message."""
        same = col(PurchaseIntent.service) == service
        if message_id is not None:
            same = same | (col(PurchaseIntent.message_id) == message_id)
        return (await self.session.exec(
            select(PurchaseIntent).where(PurchaseIntent.chat_id == chat_id, same,
                                         col(PurchaseIntent.state).in_(UNSETTLED_INTENTS))
        )).first()

    async def last_on_message(self, chat_id: int, message_id: int) -> PurchaseIntent | None:
        return (await self.session.exec(
            select(PurchaseIntent).where(PurchaseIntent.chat_id == chat_id,
                                         PurchaseIntent.message_id == message_id)
            .order_by(col(PurchaseIntent.id).desc())
        )).first()

    async def settle(self, intent: PurchaseIntent, state: str, *,
                     activation_id: int | None = None,
                     candidates: str | None = None) -> PurchaseIntent:
        intent.state = state
        intent.activation_id = activation_id
        intent.candidates = candidates
        if state != INTENT_AMBIGUOUS:
            intent.settled_at = utcnow()
        self.session.add(intent)
        await self.session.commit()
        return intent

    async def known_provider_ids(self, account_id: int) -> set[int]:
        rows = await self.session.exec(
            select(Activation.provider_id).where(Activation.account_id == account_id))
        return set(rows.all())

    async def known_phones(self, account_id: int) -> set[str]:
        """Phones of the account's running activations (a number is reused after it ends)."""
        rows = await self.session.exec(
            select(Activation.phone).where(Activation.account_id == account_id,
                                           col(Activation.state).in_(ACTIVE_STATES)))
        return set(rows.all())
