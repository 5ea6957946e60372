"""The price cache: paging a menu does not hit the provider on every tap."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot import prices
from bot.koala import KoalaClient, TransientError
from bot.prices import PriceCache
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox
from tests.conftest import DEMO_KEY


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def koala(provider: ProviderSandbox) -> AsyncIterator[KoalaClient]:
    client = KoalaClient(f"{provider.base_url}{ENDPOINT_PATH}", timeout=3.0, backoff=0.01)
    try:
        yield client
    finally:
        await client.close()


async def test_offers_are_cached_for_ttl_seconds(koala: KoalaClient,
                                                 provider: ProviderSandbox) -> None:
    clock = FakeClock()
    cache = PriceCache(koala, ttl=30.0, clock=clock)
    first = await cache.offers(DEMO_KEY, "tg")
    clock.now += 29
    again = await cache.offers(DEMO_KEY, "tg")
    assert again == first
    assert provider.calls("getPricesV3") == 1
    clock.now += 2
    await cache.offers(DEMO_KEY, "tg")
    assert provider.calls("getPricesV3") == 2
    await cache.offers(DEMO_KEY, "wa")  # another service: its own entry
    assert provider.calls("getPricesV3") == 3


async def test_fresh_and_invalidate_skip_the_cache(koala: KoalaClient,
                                                   provider: ProviderSandbox) -> None:
    cache = PriceCache(koala, clock=FakeClock())
    await cache.offers(DEMO_KEY, "wa")
    provider.set_offer("wa", 0, 33.0, 5)
    stale = prices.find(await cache.offers(DEMO_KEY, "wa"), 0)
    assert stale is not None
    assert stale.price == 30.0
    fresh = prices.find(await cache.offers(DEMO_KEY, "wa", fresh=True), 0)
    assert fresh is not None
    assert (fresh.price, fresh.count) == (33.0, 5)
    provider.set_offer("wa", 0, 35.0, 5)
    cache.invalidate("wa")
    again = prices.find(await cache.offers(DEMO_KEY, "wa"), 0)
    assert again is not None
    assert again.price == 35.0
    assert provider.calls("getPricesV3") == 3


async def test_concurrent_misses_share_one_request(koala: KoalaClient,
                                                   provider: ProviderSandbox) -> None:
    cache = PriceCache(koala, clock=FakeClock())
    results = await asyncio.gather(*(cache.offers(DEMO_KEY, "tg") for _ in range(5)))
    assert all(r == results[0] for r in results)
    assert provider.calls("getPricesV3") == 1


async def test_errors_are_not_cached(koala: KoalaClient, provider: ProviderSandbox) -> None:
    cache = PriceCache(koala, clock=FakeClock())
    provider.inject_faults("http500", actions={"getPricesV3"}, count=3)
    with pytest.raises(TransientError):
        await cache.offers(DEMO_KEY, "tg")
    assert [o for o in await cache.offers(DEMO_KEY, "tg") if o.count > 0]


async def test_falls_back_to_get_prices(koala: KoalaClient, provider: ProviderSandbox) -> None:
    provider.disable_action("getPricesV3")
    cache = PriceCache(koala, clock=FakeClock())
    offer = prices.find(await cache.offers(DEMO_KEY, "tg"), 0)
    assert offer is not None
    assert offer.price == 22.0
    assert offer.providers == ()
    assert provider.calls("getPrices") == 1


async def test_the_key_is_never_logged(koala: KoalaClient, provider: ProviderSandbox,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cache = PriceCache(koala, clock=FakeClock())
    provider.inject_faults("drop", actions={"getPricesV3"})
    with pytest.raises(TransientError) as raised:
        await cache.offers(DEMO_KEY, "tg")
    provider.clear_faults()
    await cache.offers(DEMO_KEY, "tg")
    assert DEMO_KEY not in caplog.text
    assert DEMO_KEY not in str(raised.value)


async def test_reading_offers(koala: KoalaClient, provider: ProviderSandbox) -> None:
    offers = await PriceCache(koala, clock=FakeClock()).offers(DEMO_KEY, "tg")
    anywhere = prices.find(offers, None)
    assert anywhere is not None
    assert anywhere.price == 9.9  # the cheapest supplier in Indonesia
    assert anywhere.count == sum(o.count for o in prices.in_stock(offers))
    russia = prices.find(offers, 0)
    assert russia is not None
    assert [p.provider_id for p in prices.stocked_providers(russia)] == [2, 1, 3]
    assert prices.price_of(russia, 0) == (22.0, 775)
    assert prices.price_of(russia, 1) == (25.0, 140)
    assert prices.price_of(russia, 99) is None
    by_stock = prices.by_stock(prices.in_stock(offers))
    assert [o.count for o in by_stock] == sorted((o.count for o in by_stock), reverse=True)
