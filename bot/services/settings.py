"""Personal settings: language, time zone, default country and favourite services."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.catalog import Catalog
from bot.services.accounts import user_info
from bot.services.dto import UserInfo
from bot.services.snapshots import Lookups
from bot.texts import LANGUAGES
from storage.db import SessionFactory
from storage.repo import UserRepo

# "+3", "-4:30", "UTC+5:45", "gmt -3"
_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-−]?)\s*(\d{1,2})(?:[:.](\d{2}))?", re.IGNORECASE)
# Typed instead of a country: no default country (the provider picks one).
NO_COUNTRY_WORDS = frozenset({"none", "no", "-", "нет", "никакая", "любая", "any"})
MIN_OFFSET, MAX_OFFSET = -12 * 60, 14 * 60  # minutes east of UTC


def parse_offset(text: str) -> int | None:
    """Minutes east of UTC, or None when it is no real offset."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    sign, hours, mins = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if mins not in {0, 15, 30, 45}:
        return None
    total = hours * 60 + mins
    total = -total if sign in {"-", "−"} else total
    return total if MIN_OFFSET <= total <= MAX_OFFSET else None


@dataclass(frozen=True, slots=True)
class SettingsView:
    user: UserInfo
    favourites: tuple[str, ...]  # service codes, oldest first


class SettingsService:
    def __init__(self, db: SessionFactory, catalog: Catalog,
                 lookups: Lookups | None = None) -> None:
        self.db = db
        self.catalog = catalog
        self.lookups = lookups or Lookups()  # the user's kept row, forgotten on a change

    async def view(self, user_id: int) -> SettingsView:
        async with self.db() as session:
            users = UserRepo(session)
            user = await users.get_or_create(user_id)
            favourites = await users.favourites(user_id)
        return SettingsView(user_info(user), tuple(favourites))

    async def favourites(self, user_id: int) -> tuple[str, ...]:
        async with self.db() as session:
            return tuple(await UserRepo(session).favourites(user_id))

    async def set_language(self, user_id: int, language: str) -> bool:
        if language not in LANGUAGES:
            return False
        await self._update(user_id, language=language)
        return True

    async def set_offset(self, user_id: int, minutes: int | None) -> bool:
        """False (nothing changed) for an offset no place has."""
        if minutes is None or not MIN_OFFSET <= minutes <= MAX_OFFSET:
            return False
        await self._update(user_id, tz_offset_minutes=minutes)
        return True

    async def set_country(self, user_id: int, country: int | None) -> bool:
        """None: any country. False (nothing changed) for a country we don't know."""
        if country is not None and country not in self.catalog.known_countries():
            return False
        await self._update(user_id, default_country=country)
        return True

    async def _update(self, user_id: int, **changes: object) -> None:
        kept = self.lookups.users
        kept.forget(user_id)
        try:
            async with self.db() as session:
                users = UserRepo(session)
                user = await users.get_or_create(user_id)
                for name, value in changes.items():
                    setattr(user, name, value)
                await users.save(user)
        finally:
            kept.forget(user_id)  # also what readers during the write would put back

    async def remove_favourite(self, user_id: int, service: str) -> bool:
        async with self.db() as session:
            return await UserRepo(session).remove_favourite(user_id, service)

    def find_countries(self, query: str) -> list[int]:
        """Countries matching a typed name; an exact name wins over partial matches."""
        if not query or len(query) > 64:
            return []
        catalog = self.catalog
        matches = [c for c in catalog.known_countries() if catalog.country_matches(c, query)]
        folded = query.casefold()
        exact = [c for c in matches
                 if folded in {catalog.country_name(c, "en").casefold(),
                               catalog.country_name(c, "ru").casefold()}]
        return exact or matches
