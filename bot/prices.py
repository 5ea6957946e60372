"""Placeholder: the short-lived price cache (issue 3) replaces this."""

from __future__ import annotations

from bot.koala import CountryOffer, KoalaClient


class PriceCache:
    def __init__(self, koala: KoalaClient, ttl: float = 30.0) -> None:
        self.koala = koala
        self.ttl = ttl

    async def offers(self, api_key: str, service: str) -> list[CountryOffer]:
        return await self.koala.get_offers(api_key, service)
