"""A group's purchase rules (STUB written by g2: allows everything).

g3 owns this module: its real GroupRulesService (who may buy, daily and running limits,
where codes go, reservations that two simultaneous purchases cannot both pass) replaces
this file at the merge. The names and signatures here are the contract's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class GroupRules:
    who_may_buy: Literal["all", "admins", "chosen"] = "all"
    chosen: frozenset[int] = field(default_factory=frozenset)
    daily_limit: float | None = None
    running_limit: int | None = None
    codes_to: Literal["group", "buyer"] = "group"


@dataclass(frozen=True, slots=True)
class Reservation:
    """Room held for one purchase until it is confirmed or released."""

    chat_id: int
    member_id: int
    price: float


@dataclass(frozen=True, slots=True)
class RuleRefusal:
    """A purchase that would break a rule; `text` names the rule (already translated)."""

    rule: str
    text: str = ""


class GroupRulesService:
    async def rules(self, chat_id: int) -> GroupRules:
        return GroupRules()

    async def reserve(self, chat_id: int, member_id: int, price: float, *,
                      is_admin: bool) -> Reservation | RuleRefusal:
        return Reservation(chat_id, member_id, price)

    async def release(self, reservation: Reservation) -> None:
        """The purchase failed: the room held is given back."""

    async def confirm(self, reservation: Reservation, activation_id: int) -> None:
        """Bought: the activation itself now counts."""
