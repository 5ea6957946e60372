"""Users and their favourites, and API-key accounts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import KeyBox, KeyDecryptError, mask_key
from storage.models import Account, Activation, Favourite, User, utcnow
from storage.states import ACTIVE_STATES

log = logging.getLogger(__name__)

_users = User.__table__  # type: ignore[attr-defined]
# Built once (UserRepo.set_menus runs for every few buy screens): an executemany.
_SET_MENUS = (update(_users).where(_users.c.id == bindparam("b_id"))
              .values(menu_message_id=bindparam("b_message"), menu_kind=bindparam("b_kind"),
                      menu_at=bindparam("b_at")))


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

    async def set_menus(self, menus: Mapping[int, tuple[int | None, str | None,
                                                       datetime | None]]) -> None:
        """Remember open buy menus (None: there is none), several people's in one
        statement and one commit: user id -> (message id, kind, menu_at). Only these
        columns are written, so a concurrent update of a user's settings is not undone."""
        await self.session.exec(
            _SET_MENUS,
            params=[{"b_id": user_id, "b_message": message_id, "b_kind": kind, "b_at": at}
                    for user_id, (message_id, kind, at) in menus.items()])
        await self.session.commit()


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
        if account is None:
            return None
        return usable_key(self.keybox, account.key_encrypted, account.id)

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


def usable_key(keybox: KeyBox, key_encrypted: str, account_id: int | None) -> str | None:
    """A stored key decrypted; None when it was forgotten or no longer decrypts (SECRET_KEY
    changed: logged, the owner must set it again)."""
    if not key_encrypted:
        return None
    try:
        return keybox.decrypt(key_encrypted)
    except KeyDecryptError:
        log.error("key of account %s does not decrypt (SECRET_KEY changed?)", account_id)
        return None
