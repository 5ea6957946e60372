"""Plain data objects services hand to handlers and keyboards (no database, no provider)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A person's settings as the handlers need them (a copy, not the database row)."""

    id: int
    language: str | None  # None: not chosen yet (texts fall back to English)
    tz_offset_minutes: int | None
    default_country: int | None  # None: any country
    menu_message_id: int | None  # the open buy menu in their private chat


class Problem(enum.Enum):
    """What went wrong with the provider, in the words a handler needs to explain it."""

    BAD_KEY = "bad_key"
    BANNED = "banned"
    REGION = "region"
    DOWN = "down"  # no answer, or a passing failure: nothing changed
    KEY_UNREADABLE = "key_unreadable"  # the stored key no longer decrypts
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ProviderProblem:
    kind: Problem
    text: str = ""  # OTHER: the provider's own words
    until: str = ""  # BANNED: until when, if the provider said



class ServiceMark(StrEnum):
    NONE = ""
    FAVOURITE = "fav"
    RECENT = "recent"


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One service button of the menu."""

    code: str
    mark: ServiceMark = ServiceMark.NONE

