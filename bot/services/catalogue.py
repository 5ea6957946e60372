"""What can be bought: the service menu (favourites and recent first), search, and each
service's country offers from live prices (pinned default country, sorting, filtering,
suppliers). Returns plain data; the buy handlers turn it into screens."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot import prices
from bot.catalog import Catalog
from bot.koala import BadKey, BadService, KoalaError, ProviderOffer, TransientError
from bot.koala import CountryOffer as CountryOffer  # handlers get it from here
from bot.prices import PriceCache
from bot.services.accounts import AccountService
from bot.services.dto import ServiceEntry, ServiceMark
from bot.services.snapshots import Lookups, MenuEntries, Version
from bot.services.snapshots import MenuRow as MenuRow  # handlers get it from here
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.models import utcnow
from storage.repo import AccountRepo, ActivationRepo, UserRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PayingKey:
    """The key that pays for `owner_id`'s purchases; `key` None: there is none to use
    (`has_account` says whether one was set and no longer works)."""

    key: str | None
    has_account: bool
    currency: int | None  # once a purchase named it (price lists never do)


class OffersProblem(StrEnum):
    BAD_KEY = "bad_key"
    TRANSIENT = "transient"  # try again
    PROVIDER = "provider"  # another refusal; `text` says which


@dataclass(frozen=True, slots=True)
class OffersFailed:
    problem: OffersProblem
    text: str = ""


@dataclass(frozen=True, slots=True)
class CountryList:
    """A country menu: `anywhere` ("any country", not when filtering) first, then `items`
    in the order shown. `stocked` counts the countries with numbers."""

    items: list[CountryOffer]
    anywhere: CountryOffer | None
    stocked: int
    favourite: bool
    currency: int | None


@dataclass(frozen=True, slots=True)
class NoStock:
    """The service has no numbers anywhere."""


@dataclass(frozen=True, slots=True)
class NoCountryMatch:
    """Nothing in stock matches the typed filter."""


@dataclass(frozen=True, slots=True)
class SupplierChoice:
    """Several suppliers sell this country: the person picks one (or the cheapest)."""

    cheapest: float
    providers: list[ProviderOffer]
    currency: int | None


@dataclass(frozen=True, slots=True)
class GoConfirm:
    """One way to buy here: straight to the confirm screen with these offers."""

    offers: list[CountryOffer]


@dataclass(frozen=True, slots=True)
class SoldOut:
    """Nothing left where the person asked; `offers`: the prices that said so."""

    offers: list[CountryOffer] | None = None


@dataclass(frozen=True, slots=True)
class Alternatives:
    """The cheapest countries that still have numbers (empty: none)."""

    offers: list[CountryOffer]
    currency: int | None


class CatalogueService:
    def __init__(self, db: SessionFactory, keybox: KeyBox, catalog: Catalog,
                 prices: PriceCache, accounts: AccountService | None = None) -> None:
        self.db = db
        self.keybox = keybox
        self.catalog = catalog
        self.prices = prices
        self.accounts = accounts
        self.menus = MenuStore(db, accounts.lookups if accounts is not None else None)

    async def paying_key(self, owner_id: int) -> PayingKey:
        if self.accounts is not None:  # the kept copy (bot/services/snapshots.py)
            kept = await self.accounts.current(owner_id)
            return PayingKey(self.accounts.usable_key(kept), kept is not None,
                             kept.currency if kept is not None else None)
        async with self.db() as session:
            accounts = AccountRepo(session, self.keybox)
            account = await accounts.current(owner_id)
            return PayingKey(accounts.usable_key(account), account is not None,
                             account.currency if account is not None else None)

    # --- services --------------------------------------------------------------------

    async def menu_entries(self, user_id: int) -> list[ServiceEntry]:
        """Favourites, then recently bought, then the popular ones; each once. The first
        two are read once and kept (Lookups.entries): every /buy shows them."""
        kept = await self._entries(user_id)
        entries: list[ServiceEntry] = []
        seen: set[str] = set()
        for codes, mark in ((kept.favourites, ServiceMark.FAVOURITE),
                            (kept.recent, ServiceMark.RECENT),
                            (self.catalog.popular(), ServiceMark.NONE)):
            for code in codes:
                if code not in seen:
                    seen.add(code)
                    entries.append(ServiceEntry(code, mark))
        return entries

    async def _entries(self, user_id: int) -> MenuEntries:
        async def load() -> MenuEntries:
            async with self.db() as session:
                favourites = await UserRepo(session).favourites(user_id)
                recent = await ActivationRepo(session).recent_services(user_id)
            return MenuEntries(tuple(favourites), tuple(recent))

        kept = await self.menus.lookups.entries.read(user_id, load)
        assert kept is not None  # load never says None
        return kept

    async def search(self, user_id: int, q: str, lang: str) -> list[ServiceEntry]:
        codes = self.catalog.search_services(q, lang=lang)
        if not codes:
            return []
        async with self.db() as session:
            favourites = set(await UserRepo(session).favourites(user_id))
        return [ServiceEntry(c, ServiceMark.FAVOURITE if c in favourites else ServiceMark.NONE)
                for c in codes]

    async def toggle_favourite(self, user_id: int, service: str) -> bool:
        """True when the service is now a favourite."""
        entries = self.menus.lookups.entries
        entries.forget(user_id)  # the engine's watch forgets them too; this says why
        try:
            async with self.db() as session:
                return await UserRepo(session).toggle_favourite(user_id, service)
        finally:
            entries.forget(user_id)

    # --- prices ----------------------------------------------------------------------

    def cached(self, service: str) -> bool:
        """Whether the offers are at hand (no provider read, no "Loading…" needed)."""
        return self.prices.cached(service)

    def invalidate(self, service: str) -> None:
        self.prices.invalidate(service)

    async def offers(self, key: str, service: str, *,
                     fresh: bool = False) -> list[CountryOffer] | OffersFailed:
        try:
            return await self.prices.offers(key, service, fresh=fresh)
        except BadService:
            return []  # the provider does not know the service: nothing in stock
        except BadKey:
            return OffersFailed(OffersProblem.BAD_KEY)
        except TransientError:
            return OffersFailed(OffersProblem.TRANSIENT)
        except KoalaError as exc:
            return OffersFailed(OffersProblem.PROVIDER, exc.text)

    @staticmethod
    def in_stock(offers: list[CountryOffer], country: int | None) -> bool:
        offer = prices.find(offers, country)
        return offer is not None and offer.count > 0

    async def countries(self, user_id: int, paying: PayingKey, key: str, service: str, *,
                        sort: str, q: str, fresh: bool = False,
                        ) -> CountryList | NoStock | NoCountryMatch | OffersFailed:
        """The country menu: sorted by price (or stock with sort "s"), filtered by `q`;
        unfiltered, "any country" and the user's default country come first."""
        offers = await self.offers(key, service, fresh=fresh)
        if isinstance(offers, OffersFailed):
            return offers
        stocked = prices.in_stock(offers)
        if not stocked:
            return NoStock()
        ordered = prices.by_stock(stocked) if sort == "s" else prices.by_price(stocked)
        if self.accounts is not None:  # the kept rows, as the service menu reads them
            default = (await self.accounts.user(user_id)).default_country
            favourite = service in (await self._entries(user_id)).favourites
        else:
            async with self.db() as session:
                users = UserRepo(session)
                user = await users.get(user_id)
                default = user.default_country if user is not None else None
                favourite = service in await users.favourites(user_id)
        anywhere: CountryOffer | None = None
        if q:
            items = [o for o in ordered if self.catalog.country_matches(o.country, q)]
            if not items:
                return NoCountryMatch()
        else:
            anywhere = prices.any_country(offers)
            items = ([o for o in ordered if o.country == default]
                     + [o for o in ordered if o.country != default])
        return CountryList(items, anywhere, len(stocked), favourite, paying.currency)

    async def pick_country(self, paying: PayingKey, key: str, service: str,
                           country: int | None,
                           ) -> SupplierChoice | GoConfirm | SoldOut | OffersFailed:
        offers = await self.offers(key, service)
        if isinstance(offers, OffersFailed):
            return offers
        offer = prices.find(offers, country)
        if offer is None or offer.count <= 0:
            return SoldOut()
        providers = prices.stocked_providers(offer) if country is not None else []
        if len(providers) > 1:
            return SupplierChoice(offer.price, providers, paying.currency)
        return GoConfirm(offers)

    async def alternatives(self, paying: PayingKey, key: str, service: str,
                           country: int | None, *,
                           offers: list[CountryOffer] | None = None) -> Alternatives:
        """Sold out in `country`: the cheapest others in stock (none for "any country":
        it already means all of them)."""
        if offers is None:
            try:
                offers = await self.prices.offers(key, service, fresh=True)
            except KoalaError:
                offers = []
        others = [] if country is None else [
            o for o in prices.by_price(prices.in_stock(offers)) if o.country != country]
        return Alternatives(others, paying.currency)


# --- the open buy menu -------------------------------------------------------------------


class MenuStore:
    """Kept on the user's row, not in the FSM: with memory storage a restart forgets the
    FSM, and a country typed into a country menu must still filter its countries. Read
    once and kept (bot/services/snapshots.py): every change goes through `set`, `begin`
    or `remember`."""

    def __init__(self, db: SessionFactory, lookups: Lookups | None = None) -> None:
        self.db = db
        self.lookups = lookups or Lookups()
        self._writer = asyncio.Lock()
        self._writes: set[asyncio.Future[None]] = set()
        # user id -> the versions the newest `begin` put the kept rows at
        self._newest: dict[int, tuple[Version, Version | None]] = {}
        self._pending: dict[int, tuple[int | None, str | None, datetime | None]] = {}
        self._batch: asyncio.Future[None] | None = None  # the next write's outcome

    @property
    def keeps(self) -> bool:
        """Whether the menus are kept in memory (one instance: bot/services/snapshots.py);
        if not, the next update reads the row, so a menu must be written before it shows."""
        return self.lookups.menus.enabled

    async def get(self, user_id: int) -> MenuRow:
        async def load() -> MenuRow | None:
            async with self.db() as session:
                user = await UserRepo(session).get(user_id)
            return None if user is None else MenuRow(user.menu_message_id, user.menu_kind,
                                                     user.menu_at)

        return await self.lookups.menus.read(user_id, load) or MenuRow(None, None, None)

    async def set(self, user_id: int, message_id: int | None, kind: str | None) -> None:
        """Remember the open menu (None: there is none)."""
        await self.begin(user_id, message_id, kind)

    def begin(self, user_id: int, message_id: int | None, kind: str | None
              ) -> asyncio.Future[None]:
        """`set`, in two halves: what the next `get` reads is in place when this returns;
        the write is the returned future, kept here until it ends (`drain`). A screen need
        not wait for it (handlers/buy_screens.py): every buy screen writes the menu, and
        that write came before the screen, in the person's wait."""
        rows, people = self.lookups.menus, self.lookups.users
        person = people.get(user_id)
        rows.forget(user_id)
        people.forget(user_id)  # UserInfo carries menu_message_id
        # The kept rows take the new menu at once, instead of being dropped: the person's
        # next update (often sent while this write is still going on) would otherwise read
        # the row again. A reader that started before now cannot put the old menu back
        # (the versions moved on), and anyone else changing the row meanwhile moves them
        # again: then what is kept is dropped when the write ends.
        at = utcnow() if message_id is not None else None
        menu_at = rows.version(user_id)
        rows.put(user_id, MenuRow(message_id, kind, at), menu_at)
        person_at = None
        if person is not None:
            person_at = people.version(user_id)
            people.put(user_id, replace(person, menu_message_id=message_id), person_at)
        mine = (menu_at, person_at)
        self._newest[user_id] = mine

        async def write() -> None:
            written = False
            try:
                await self._write(user_id, message_id, kind, at)
                written = True
            finally:
                # Kept as put by the newest `begin` of this person (this one, or a later
                # one whose menu was written with or after this): still right. Moved on
                # by anyone else: dropped, as a reader may have put the row as it was
                # before this commit.
                newest = self._newest.get(user_id, mine)
                if newest is mine:
                    del self._newest[user_id]
                if not written or rows.version(user_id) != newest[0]:
                    rows.forget(user_id)
                if not written or newest[1] is None or people.version(user_id) != newest[1]:
                    people.forget(user_id)

        task = asyncio.ensure_future(write())
        self._writes.add(task)
        task.add_done_callback(self._written)
        return task

    async def remember(self, user_id: int, message_id: int | None, kind: str | None
                       ) -> None:
        """`begin`, waited for only when the next update would read the table (several
        instances); with the menus kept, the write goes on while the screen shows."""
        writing = self.begin(user_id, message_id, kind)
        if not self.keeps:
            await writing

    def _written(self, task: asyncio.Future[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Nobody may be waiting (a screen does not wait for its menu's write): the
            # kept row is dropped, so the next reader reads what the table says.
            log.error("menu not written", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the menu writes under way (at shutdown, after the updates)."""
        while self._writes:
            await asyncio.wait(set(self._writes))

    async def _write(self, user_id: int, message_id: int | None, kind: str | None,
                     at: datetime | None) -> None:
        """Write one person's menu; returns when it is committed.

        Group commit: one writer at a time, and the menus that came meanwhile go in its
        next statement and commit together. Every buy screen writes the menu; written
        one by one from many updates at once, SQLite's writers waited for its lock (the
        busy handler sleeps up to 100 ms at a time), holding pool connections that reads
        then queued for: 0.3 s a menu write on average at 150 updates/s (bench.latency
        --rate). A menu newer than this one, from the same person, replaces it before
        the write (the newest is what the row must say)."""
        self._pending[user_id] = (message_id, kind, at)
        batch = self._batch
        if batch is None:
            batch = self._batch = asyncio.get_running_loop().create_future()
        async with self._writer:
            if not batch.done():  # nobody wrote this batch yet: this update does
                pending, self._pending, self._batch = self._pending, {}, None
                try:
                    async with self.db() as session:
                        await UserRepo(session).set_menus(pending)
                    batch.set_result(None)
                except BaseException as exc:
                    batch.set_exception(exc)
                    batch.exception()  # retrieved: whoever waits on it raises it
                    raise
        await batch
