"""Typed results of the provider's answers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

# The time rules compatible providers apply when an answer does not say (see the API notes).
DEFAULT_CANCEL_DELAY = 120.0
DEFAULT_LIFETIME = 1200.0


@dataclass(frozen=True, slots=True)
class Purchase:
    """A bought number. Times are relative: the provider's clock has no time zone."""

    activation_id: int
    phone: str
    cost: float | None
    currency: int | None = None
    country_code: str | None = None
    can_get_another_sms: bool = False
    cancel_delay: float = DEFAULT_CANCEL_DELAY  # seconds after purchase before cancel is allowed
    lifetime: float = DEFAULT_LIFETIME  # seconds after purchase until the activation ends
    provider_time: datetime | None = None  # activationTime as the provider wrote it


class SmsStatus(enum.StrEnum):
    WAIT_CODE = "STATUS_WAIT_CODE"
    WAIT_RETRY = "STATUS_WAIT_RETRY"  # waiting for another code; `code` is the old one
    WAIT_RESEND = "STATUS_WAIT_RESEND"  # the service should re-send the SMS
    CANCEL = "STATUS_CANCEL"
    OK = "STATUS_OK"


@dataclass(frozen=True, slots=True)
class StatusResult:
    status: SmsStatus
    code: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ActiveActivation:
    """One row of getActiveActivations."""

    activation_id: int
    phone: str | None
    status: str | None
    service: str | None
    country_code: str | None
    codes: tuple[str, ...]
    text: str | None
    cost: float | None
    currency: int | None
    can_get_another_sms: bool

    @property
    def code(self) -> str | None:
        return self.codes[-1] if self.codes else None


@dataclass(frozen=True, slots=True)
class ProviderOffer:
    """One upstream provider's stock of a service in a country (getPricesV3)."""

    provider_id: int
    price: float  # the cheapest of `prices`
    count: int
    prices: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class CountryOffer:
    """Price and stock of one service in one country, whatever price shape it came from."""

    country: int
    service: str
    price: float
    count: int
    providers: tuple[ProviderOffer, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One activation in the provider's history (getHistory, where a provider has it)."""

    activation_id: int
    codes: tuple[str, ...]  # oldest first
    text: str | None
    status: str | None
