"""Plain data the buy services hand to handlers and keyboards (no database, no provider)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ServiceMark(StrEnum):
    NONE = ""
    FAVOURITE = "fav"
    RECENT = "recent"


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One service button of the menu."""

    code: str
    mark: ServiceMark = ServiceMark.NONE
