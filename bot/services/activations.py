"""What a person does with running activations: list them, bring a card down, cancel,
ask for another code, complete. The money rules stay in the core (ActivationManager);
this service looks the activation up, delegates, and says what came of it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.activations import ActivationManager, Outcome
from bot.catalog import Catalog
from storage.db import SessionFactory
from storage.models import Activation
from storage.repo import ActivationRepo
from storage.states import ActivationState

__all__ = [
    "ActionResult",
    "ActivationRef",
    "ActivationService",
    "CardShown",
    "Outcome",
    "UserAction",
]


class UserAction(enum.Enum):
    CANCEL = "cancel"
    ANOTHER = "another"
    COMPLETE = "complete"


class CardShown(enum.Enum):
    SHOWN = "shown"  # posted again below
    OVER = "over"  # the activation has ended: its card was only brought up to date
    NOT_FOUND = "not_found"  # no such activation in this chat


@dataclass(frozen=True, slots=True)
class ActivationRef:
    """Who may act on an activation, and what it cost."""

    id: int
    chat_id: int
    buyer_id: int
    cost: float
    currency: int | None


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: Outcome
    text: str = ""  # REFUSED: the provider's words
    cancel_at: datetime | None = None  # SCHEDULED: when the cancel will be sent


@dataclass(frozen=True, slots=True)
class RunningActivation:
    """One running activation as /active lists it (bot.ui.cards.ListFacts)."""

    id: int | None
    service: str
    country: int | None
    phone: str
    state: str
    cost: float
    currency: int | None
    cancel_at: datetime
    ends_at: datetime
    cancel_requested: bool
    resend_requested: bool

    @classmethod
    def of(cls, row: Activation) -> RunningActivation:
        return cls(row.id, row.service, row.country, row.phone, row.state, row.cost,
                   row.currency, row.cancel_at, row.ends_at, row.cancel_requested,
                   row.resend_requested)


@dataclass(frozen=True, slots=True)
class Running:
    """The running activations of a chat, oldest first."""

    activations: tuple[RunningActivation, ...]
    now: datetime


class ActivationService:
    def __init__(self, db: SessionFactory, manager: ActivationManager) -> None:
        self.db = db
        self.manager = manager

    @property
    def catalog(self) -> Catalog:
        return self.manager.catalog

    def now(self) -> datetime:
        return self.manager.clock()

    async def running(self, chat_id: int, *, buyer_id: int | None) -> Running:
        """buyer_id: only that person's (a private chat); None: everyone's in the chat."""
        async with self.db() as session:
            rows = await ActivationRepo(session).active_in_chat(chat_id, buyer_id=buyer_id)
        return Running(tuple(RunningActivation.of(row) for row in rows), self.now())

    async def _get(self, activation_id: int) -> Activation | None:
        async with self.db() as session:
            return await ActivationRepo(session).get(activation_id)

    async def ref(self, activation_id: int) -> ActivationRef | None:
        found = await self._get(activation_id)
        if found is None or found.id is None:
            return None
        return ActivationRef(found.id, found.chat_id, found.buyer_id, found.cost,
                             found.currency)

    async def show_card(self, activation_id: int, chat_id: int) -> CardShown:
        """Post the card again below the chat; send_card turns the older copy into a pointer."""
        found = await self._get(activation_id)
        if found is None or found.id is None or found.chat_id != chat_id:
            return CardShown.NOT_FOUND
        if ActivationState(found.state).is_final:
            await self.manager.refresh_card(found)  # the card may still show an older state
            return CardShown.OVER
        # Under the activation's lock: a state change meanwhile would edit the copy being
        # retired (bringing its buttons back) and leave the new one outdated.
        async with self.manager.lock(found.id):
            await self.manager.send_card(found)
        return CardShown.SHOWN

    async def act(self, action: UserAction, activation_id: int) -> ActionResult:
        manager = self.manager
        if action is UserAction.CANCEL:
            result = await manager.cancel(activation_id)
        elif action is UserAction.ANOTHER:
            result = await manager.another(activation_id)
        else:
            result = await manager.complete(activation_id)
        row = result.activation
        if result.outcome in {Outcome.FINAL, Outcome.HAS_CODE} and row is not None:
            await manager.refresh_card(row)  # the card showed an old state
        return ActionResult(result.outcome, result.text,
                            cancel_at=row.cancel_at if row is not None else None)
