"""One exception per provider answer, so callers can `except NoNumbers` instead of parsing text."""

from __future__ import annotations

import re


class KoalaError(Exception):
    """Base of everything the client raises. `code` is the provider's token (or ours)."""

    code = "ERROR"

    def __init__(self, text: str = "") -> None:
        self.text = text or self.code
        super().__init__(self.text)


class TransientError(KoalaError):
    """The provider could not be reached or answered something that is not an answer
    (time-out, connection error, HTTP 5xx, an HTML page, garbage). Safe to try again later,
    except for a purchase, whose outcome is then unknown."""

    code = "TRANSIENT"


class ProviderError(KoalaError):
    """The provider answered with an error; unknown errors keep their text here."""


class BadKey(ProviderError):
    code = "BAD_KEY"


class BadAction(ProviderError):
    code = "BAD_ACTION"


class BadService(ProviderError):
    code = "BAD_SERVICE"


class BadStatus(ProviderError):
    code = "BAD_STATUS"


class NoActivation(ProviderError):
    code = "NO_ACTIVATION"


class NoNumbers(ProviderError):
    code = "NO_NUMBERS"


class NoBalance(ProviderError):
    code = "NO_BALANCE"


class SqlError(ProviderError):
    code = "ERROR_SQL"


class ServiceUnavailableRegion(ProviderError):
    code = "SERVICE_UNAVAILABLE_REGION"


class ServiceProhibited(ProviderError):
    code = "PROHIBITED"


class EarlyCancelDenied(ProviderError):
    code = "EARLY_CANCEL_DENIED"


class ChannelsLimit(ProviderError):
    code = "CHANNELS_LIMIT"


class AccountInactive(ProviderError):
    code = "ACCOUNT_INACTIVE"


class WrongMaxPrice(ProviderError):
    """The price rose past maxPrice; `min_price` is what a purchase costs now."""

    code = "WRONG_MAX_PRICE"

    def __init__(self, text: str = "", min_price: float | None = None) -> None:
        super().__init__(text)
        self.min_price = min_price


class Banned(ProviderError):
    code = "BANNED"

    def __init__(self, text: str = "", until: str | None = None) -> None:
        super().__init__(text)
        self.until = until


_SIMPLE: dict[str, type[ProviderError]] = {
    "BAD_KEY": BadKey,
    "NO_KEY": BadKey,
    "BAD_ACTION": BadAction,
    "BAD_SERVICE": BadService,
    "BAD_STATUS": BadStatus,
    "NO_ACTIVATION": NoActivation,
    "WRONG_ACTIVATION_ID": NoActivation,
    "NO_NUMBERS": NoNumbers,
    "NO_BALANCE": NoBalance,
    "ERROR_SQL": SqlError,
    "SERVICE_UNAVAILABLE_REGION": ServiceUnavailableRegion,
    "EARLY_CANCEL_DENIED": EarlyCancelDenied,
    "CHANNELS_LIMIT": ChannelsLimit,
    "ACCOUNT_INACTIVE": AccountInactive,
}

_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def error_from_text(text: str) -> ProviderError:
    """Map an error answer to its exception; unknown text becomes a ProviderError."""
    text = text.strip()
    head, _, tail = text.partition(":")
    head = head.strip().upper()
    if head in _SIMPLE:
        return _SIMPLE[head](text)
    if head == "WRONG_MAX_PRICE":
        match = _NUMBER.search(tail)
        price = float(match.group().replace(",", ".")) if match else None
        return WrongMaxPrice(text, price)
    if head == "BANNED":
        return Banned(text, tail.strip() or None)
    if "prohibited" in text.lower():
        return ServiceProhibited(text)
    return ProviderError(text)


def is_error_token(text: str) -> bool:
    """True when the text is one of the errors we know by name."""
    head = text.strip().partition(":")[0].strip().upper()
    return head in _SIMPLE or head in {"WRONG_MAX_PRICE", "BANNED"} or "prohibited" in text.lower()
