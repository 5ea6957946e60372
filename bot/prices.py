"""A short-lived cache of live prices, so paging a country menu does not hit the provider
on every tap, plus the small pure helpers the buy menus use to read offers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.koala import CountryOffer, KoalaClient, ProviderOffer


class PriceCache:
    """Offers per (provider URL, service), kept `ttl` seconds.

    Prices are the provider's, not the account's, so the key is not part of the cache key
    (nor of any log line). Errors are not cached: the next tap asks again. Concurrent
    misses for one service share one request.
    """

    def __init__(self, koala: KoalaClient, ttl: float = 30.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.koala = koala
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, list[CountryOffer]]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _key(self, service: str) -> tuple[str, str]:
        return (self.koala.base_url, service)

    def _fresh(self, key: tuple[str, str]) -> list[CountryOffer] | None:
        entry = self._entries.get(key)
        if entry is not None and self.clock() - entry[0] < self.ttl:
            return entry[1]
        return None

    async def offers(self, api_key: str, service: str, *,
                     fresh: bool = False) -> list[CountryOffer]:
        """Every country's offer for `service` (out-of-stock ones included).

        `fresh=True` skips the cache: after the provider said the price or the stock
        changed, the menu must not show the old one again.
        """
        key = self._key(service)
        if fresh:
            self._entries.pop(key, None)
        cached = self._fresh(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._fresh(key)  # another tap may have filled it meanwhile
            if cached is not None:
                return cached
            offers = [o for o in await self.koala.get_offers(api_key, service)
                      if o.service == service]
            self._drop_expired()
            self._entries[key] = (self.clock(), offers)
            return offers

    def cached(self, service: str) -> bool:
        """Whether `offers` would answer from the cache, without asking the provider."""
        return self._fresh(self._key(service)) is not None

    def invalidate(self, service: str | None = None) -> None:
        if service is None:
            self._entries.clear()
        else:
            self._entries.pop(self._key(service), None)

    def _drop_expired(self) -> None:
        now = self.clock()
        for key in [k for k, (at, _) in self._entries.items() if now - at >= self.ttl]:
            del self._entries[key]
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                del self._locks[key]


# --- reading offers ------------------------------------------------------------------


def in_stock(offers: list[CountryOffer]) -> list[CountryOffer]:
    return [o for o in offers if o.count > 0]


def by_price(offers: list[CountryOffer]) -> list[CountryOffer]:
    return sorted(offers, key=lambda o: (o.price, -o.count, o.country))


def by_stock(offers: list[CountryOffer]) -> list[CountryOffer]:
    return sorted(offers, key=lambda o: (-o.count, o.price, o.country))


def find(offers: list[CountryOffer], country: int | None) -> CountryOffer | None:
    """The offer of one country; None (any country) is `any_country`'s offer."""
    if country is None:
        return any_country(offers)
    return next((o for o in offers if o.country == country), None)


def any_country(offers: list[CountryOffer]) -> CountryOffer | None:
    """What "any country" costs: the cheapest in-stock price, with the total stock. Its
    `country` is that cheapest one's, for information only: the provider picks."""
    stocked = in_stock(offers)
    if not stocked:
        return None
    best = by_price(stocked)[0]
    return CountryOffer(best.country, best.service, best.price, sum(o.count for o in stocked))


def stocked_providers(offer: CountryOffer) -> list[ProviderOffer]:
    """Upstream providers with stock, cheapest first."""
    return sorted((p for p in offer.providers if p.count > 0),
                  key=lambda p: (p.price, -p.count, p.provider_id))


def price_of(offer: CountryOffer, provider_id: int) -> tuple[float, int] | None:
    """(price, stock) of buying `offer` from one provider (0: the cheapest), or None when
    that provider has nothing left."""
    if provider_id == 0:
        return (offer.price, offer.count) if offer.count > 0 else None
    chosen = next((p for p in stocked_providers(offer) if p.provider_id == provider_id), None)
    return (chosen.price, chosen.count) if chosen is not None else None
