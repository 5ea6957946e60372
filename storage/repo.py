"""Repositories: every query the bot makes lives here, never in a handler."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.redact import mask_key
from storage.crypto import KeyBox, KeyDecryptError
from storage.models import (
    Account,
    Activation,
    Code,
    Favourite,
    GroupSettings,
    PurchaseIntent,
    User,
    utcnow,
)
from storage.states import ACTIVE_STATES, FINAL_STATES, ActivationState, check_move

log = logging.getLogger(__name__)

# States whose price stays spent; the others were refunded. An unknown outcome counts as
# spent: no refund was confirmed.
CHARGED_STATES = frozenset({ActivationState.RECEIVED, ActivationState.RETRY,
                            ActivationState.COMPLETED, ActivationState.WAITING,
                            ActivationState.UNKNOWN})
REFUNDED_STATES = frozenset({ActivationState.CANCELLED, ActivationState.EXPIRED,
                             ActivationState.PROVIDER_CANCELLED})


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def get_or_create(self, user_id: int, language_code: str | None = None) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            lang = "ru" if (language_code or "").lower().startswith(("ru", "uk", "be")) else "en"
            user = User(id=user_id, language=lang)
            self.session.add(user)
            try:
                await self.session.commit()
            except IntegrityError:
                # Two first updates of one person at once: the other one created the row.
                await self.session.rollback()
                found = await self.session.get(User, user_id)
                if found is None:
                    raise
                return found
        return user

    async def save(self, user: User) -> User:
        self.session.add(user)
        await self.session.commit()
        return user

    async def favourites(self, user_id: int) -> list[str]:
        rows = await self.session.exec(
            select(Favourite.service).where(Favourite.user_id == user_id)
            .order_by(col(Favourite.created_at))
        )
        return list(rows.all())

    async def toggle_favourite(self, user_id: int, service: str) -> bool:
        """Returns True when the service is now a favourite."""
        found = (await self.session.exec(
            select(Favourite).where(Favourite.user_id == user_id, Favourite.service == service)
        )).first()
        if found is not None:
            await self.session.delete(found)
            await self.session.commit()
            return False
        self.session.add(Favourite(user_id=user_id, service=service))
        await self.session.commit()
        return True

    async def remove_favourite(self, user_id: int, service: str) -> bool:
        """Idempotent, unlike toggle: a second press on a stale ✖ must not add it back."""
        result = await self.session.exec(
            delete(Favourite).where(col(Favourite.user_id) == user_id,
                                    col(Favourite.service) == service)
        )
        await self.session.commit()
        return bool(result.rowcount)

    async def set_menu(self, user: User, message_id: int | None, kind: str | None) -> None:
        """Remember the user's open buy menu (None: there is none). Only these columns are
        written, so a concurrent update of the user's settings is not undone."""
        at = utcnow() if message_id is not None else None
        await self.session.exec(
            update(User).where(col(User.id) == user.id)
            .values(menu_message_id=message_id, menu_kind=kind, menu_at=at)
        )
        await self.session.commit()
        user.menu_message_id, user.menu_kind, user.menu_at = message_id, kind, at


class AccountRepo:
    def __init__(self, session: AsyncSession, keybox: KeyBox) -> None:
        self.session = session
        self.keybox = keybox

    async def current(self, owner_id: int) -> Account | None:
        """The account in use for a user (owner_id > 0) or a group (owner_id < 0)."""
        return (await self.session.exec(
            select(Account).where(Account.owner_id == owner_id, col(Account.retired_at).is_(None))
            .order_by(col(Account.id).desc())
        )).first()

    async def get(self, account_id: int) -> Account | None:
        return await self.session.get(Account, account_id)

    async def set_key(self, owner_id: int, api_key: str, linked_by: int) -> Account:
        """Store a new key; a previous one is retired, not lost, while it has work left."""
        await self._retire(owner_id)
        account = Account(owner_id=owner_id, key_encrypted=self.keybox.encrypt(api_key),
                          key_hint=mask_key(api_key), linked_by=linked_by)
        self.session.add(account)
        await self.session.commit()
        return account

    async def remove(self, owner_id: int) -> bool:
        retired = await self._retire(owner_id)
        await self.session.commit()
        return retired

    async def _retire(self, owner_id: int) -> bool:
        result = await self.session.exec(
            update(Account)
            .where(col(Account.owner_id) == owner_id, col(Account.retired_at).is_(None))
            .values(retired_at=utcnow())
        )
        return bool(result.rowcount)

    def api_key(self, account: Account) -> str:
        return self.keybox.decrypt(account.key_encrypted)

    def usable_key(self, account: Account | None) -> str | None:
        """The account's key; None when there is none, it was forgotten, or it no longer
        decrypts (SECRET_KEY changed: logged, the owner must set it again)."""
        if account is None or not account.key_encrypted:
            return None
        try:
            return self.keybox.decrypt(account.key_encrypted)
        except KeyDecryptError:
            log.error("key of account %s does not decrypt (SECRET_KEY changed?)", account.id)
            return None

    async def learn_currency(self, account_id: int, currency: int) -> bool:
        """Remember the account's currency the first time an answer names it."""
        result = await self.session.exec(
            update(Account)
            .where(col(Account.id) == account_id, col(Account.currency).is_(None))
            .values(currency=currency)
        )
        await self.session.commit()
        return bool(result.rowcount)

    async def forget_idle_retired(self) -> int:
        """Wipe the keys of retired accounts that have no running activation left."""
        busy = select(Activation.account_id).where(col(Activation.state).in_(ACTIVE_STATES))
        result = await self.session.exec(
            update(Account)
            .where(col(Account.retired_at).is_not(None), col(Account.key_encrypted) != "",
                   col(Account.id).not_in(busy))
            .values(key_encrypted="")
        )
        await self.session.commit()
        return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Spending:
    count: int
    total: float


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


class GroupRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_create(self, chat_id: int) -> GroupSettings:
        settings = await self.session.get(GroupSettings, chat_id)
        if settings is None:
            settings = GroupSettings(chat_id=chat_id)
            self.session.add(settings)
            await self.session.commit()
        return settings

    async def save(self, settings: GroupSettings) -> GroupSettings:
        self.session.add(settings)
        await self.session.commit()
        return settings

    async def forget(self, chat_id: int) -> None:
        await self.session.exec(delete(GroupSettings).where(col(GroupSettings.chat_id) == chat_id))
        await self.session.commit()


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
