"""Keys and accounts: set, replace, remove and check an API key, the balance of whoever
pays here, and the person's row (language, settings, open menu)."""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

from bot.koala import KoalaClient
from bot.koala.client import SCREEN_BUDGET, read_budget
from bot.koala.errors import BadKey, Banned, KoalaError, ServiceUnavailableRegion, TransientError
from bot.services.dto import Problem, ProviderProblem, UserInfo
from bot.services.snapshots import KeptAccount, Lookups
from storage.crypto import KeyBox, KeyDecryptError
from storage.db import SessionFactory
from storage.models import User
from storage.repo import AccountRepo, UserRepo
from storage.repos.users import usable_key

__all__ = ["SCREEN_BUDGET", "AccountService", "Balance", "KeyOutcome", "KeySubmit",
           "carries_key", "looks_like_key", "problem_of", "read_budget", "user_info"]

log = logging.getLogger(__name__)

# What the provider's keys are made of; anything else is refused before a request.
KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
# Stricter: what we treat as a key pasted out of context (letters and digits, long).
KEY_LIKE_RE = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9_-]{24,128}")


def looks_like_key(text: str | None) -> bool:
    # Filters call it on every message: a sticker or a photo has no text at all.
    return text is not None and KEY_LIKE_RE.fullmatch(text.strip()) is not None


_KEY_INSIDE_RE = re.compile(r"(?<![A-Za-z0-9_-])" + KEY_LIKE_RE.pattern + r"(?![A-Za-z0-9_-])")


def carries_key(text: str | None) -> bool:
    """A key anywhere in the text ("here is the key abc…"): in a group such a message is
    deleted, whatever surrounds the key."""
    return text is not None and _KEY_INSIDE_RE.search(text) is not None


def problem_of(exc: BaseException) -> ProviderProblem | None:
    """The provider failure (or unreadable key) behind an exception; None for anything else."""
    if isinstance(exc, KeyDecryptError):
        return ProviderProblem(Problem.KEY_UNREADABLE)
    if isinstance(exc, BadKey):
        return ProviderProblem(Problem.BAD_KEY)
    if isinstance(exc, Banned):
        return ProviderProblem(Problem.BANNED, until=exc.until or "?")
    if isinstance(exc, ServiceUnavailableRegion):
        return ProviderProblem(Problem.REGION)
    if isinstance(exc, TransientError):
        return ProviderProblem(Problem.DOWN)
    if isinstance(exc, KoalaError):
        return ProviderProblem(Problem.OTHER, text=exc.text)
    return None


def user_info(user: User) -> UserInfo:
    return UserInfo(id=user.id, language=user.language, tz_offset_minutes=user.tz_offset_minutes,
                    default_country=user.default_country, menu_message_id=user.menu_message_id)


@dataclass(frozen=True, slots=True)
class Balance:
    """The balance of whoever pays here; `problem` set (and `amount` None) when it can't be
    shown, `has_key` False when no key is set."""

    has_key: bool
    amount: float | None = None
    currency: int | None = None
    hint: str = ""
    problem: ProviderProblem | None = None


class KeyOutcome(enum.Enum):
    SAVED = "saved"
    BAD_FORMAT = "bad_format"  # not made like a key: refused before any request
    REJECTED = "rejected"  # the provider does not know it
    CANT_CHECK = "cant_check"  # the provider did not answer: not saved
    PROBLEM = "problem"  # another provider refusal: not saved


@dataclass(frozen=True, slots=True)
class KeySubmit:
    outcome: KeyOutcome
    hint: str = ""
    amount: float | None = None
    problem: ProviderProblem | None = None


class AccountService:
    def __init__(self, db: SessionFactory, keybox: KeyBox, koala: KoalaClient,
                 lookups: Lookups | None = None) -> None:
        self.db = db
        self.keybox = keybox
        self.koala = koala
        self.lookups = lookups or Lookups()

    async def user(self, user_id: int, language_code: str | None = None) -> UserInfo:
        """The person's row, made on their first update (read once, then kept: see
        bot/services/snapshots.py)."""
        async def load() -> UserInfo:
            async with self.db() as session:
                return user_info(await UserRepo(session).get_or_create(user_id, language_code))

        info = await self.lookups.users.read(user_id, load)
        assert info is not None  # made when missing
        return info

    async def current(self, owner_id: int) -> KeptAccount | None:
        """The account in use for `owner_id` (kept: see bot/services/snapshots.py)."""
        async def load() -> KeptAccount | None:
            async with self.db() as session:
                row = await AccountRepo(session, self.keybox).current(owner_id)
            if row is None:
                return None  # "no account" is not kept
            return KeptAccount(row.id, row.owner_id, row.key_encrypted, row.key_hint,
                               row.currency)

        return await self.lookups.accounts.read(owner_id, load)

    def usable_key(self, account: KeptAccount | None) -> str | None:
        """The account's key; None when there is none, it was forgotten, or it no longer
        decrypts (as AccountRepo.usable_key, for a kept account)."""
        if account is None:
            return None
        return usable_key(self.keybox, account.key_encrypted, account.id)

    def forget_account(self, owner_id: int) -> None:
        """Its key changed, or the owner (a group) moved: read it afresh next time."""
        self.lookups.accounts.forget(owner_id)

    async def key_hint(self, owner_id: int) -> str | None:
        """The mask of the key in use here; None when there is none."""
        account = await self.current(owner_id)
        return None if account is None else account.key_hint

    async def balance(self, owner_id: int) -> Balance:
        account = await self.current(owner_id)
        if account is None:
            return Balance(has_key=False)
        try:
            key = self.keybox.decrypt(account.key_encrypted)
        except KeyDecryptError as exc:
            return Balance(has_key=True, hint=account.key_hint, problem=problem_of(exc))
        try:
            amount = await self.koala.get_balance(key)
        except KoalaError as exc:
            return Balance(has_key=True, hint=account.key_hint, problem=problem_of(exc))
        return Balance(has_key=True, amount=amount, currency=account.currency,
                       hint=account.key_hint)

    async def submit_key(self, owner_id: int, raw: str, *, linked_by: int) -> KeySubmit:
        """Check the key with the provider (getBalance), then store it encrypted."""
        key = raw.strip()
        if not KEY_RE.fullmatch(key):
            return KeySubmit(KeyOutcome.BAD_FORMAT)
        try:
            amount = await self.koala.get_balance(key)
        except BadKey:
            return KeySubmit(KeyOutcome.REJECTED)
        except TransientError:
            return KeySubmit(KeyOutcome.CANT_CHECK)
        except KoalaError as exc:
            return KeySubmit(KeyOutcome.PROBLEM, problem=problem_of(exc))
        self.forget_account(owner_id)
        try:
            async with self.db() as session:
                account = await AccountRepo(session, self.keybox).set_key(
                    owner_id, key, linked_by=linked_by)
        finally:
            self.forget_account(owner_id)
        log.info("user %s set an API key (%s)", linked_by, account.key_hint)
        return KeySubmit(KeyOutcome.SAVED, hint=account.key_hint, amount=amount)

    async def remove_key(self, owner_id: int, *, by: int) -> bool:
        """False when there was no key to remove."""
        self.forget_account(owner_id)
        try:
            async with self.db() as session:
                removed = await AccountRepo(session, self.keybox).remove(owner_id)
        finally:
            self.forget_account(owner_id)
        if removed:
            log.info("user %s removed their API key", by)
        return removed
