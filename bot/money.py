"""How amounts of money are written: one function for every screen, card and file.

Prices keep the precision the provider gave them (1.555 stays 1.555, never 1.55), so
the price a person sees is the very maxPrice the bot sends and the most they pay.
Currencies come as ISO 4217 numeric codes (getNumberV2, getActiveActivations); price
lists and balances name none, so an account's currency is learned from its first
purchase and then shown everywhere.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Sign shown after an amount, by ISO 4217 numeric code.
CURRENCY_SIGNS: dict[int, str] = {
    643: "₽", 840: "$", 978: "€", 156: "¥", 826: "£", 980: "₴", 398: "₸", 933: "Br",
    949: "₺", 356: "₹", 360: "Rp",
}
# Alphabetic ISO 4217 codes, for files read by people and spreadsheets.
CURRENCY_ISO: dict[int, str] = {
    643: "RUB", 840: "USD", 978: "EUR", 156: "CNY", 826: "GBP", 980: "UAH", 398: "KZT",
    933: "BYN", 949: "TRY", 356: "INR", 360: "IDR",
}

# Enough for any provider's prices; also hides float noise such as 98.44500000000001.
_MAX_DECIMALS = 6
_MIN_DECIMALS = 2


def amount_text(amount: float) -> str:
    """The amount with as many decimals as it needs, at least two: 22.00, 1.555, 0.0123."""
    try:
        # repr is the shortest text that reads back as the same float: what the provider sent.
        exact = Decimal(repr(float(amount)))
        value = exact.quantize(Decimal(1).scaleb(-_MAX_DECIMALS), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # inf or nan: nothing sensible to round
        return str(amount)
    text = f"{value:f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(_MIN_DECIMALS, "0")
    if whole == "-0" and not decimals.strip("0"):
        whole = "0"
    return f"{whole}.{decimals}"


def money(amount: float | None, currency: int | None = None) -> str:
    """An amount for people: "22.00 ₽" once the currency is known, "22.00" before."""
    if amount is None:
        return "?"
    text = amount_text(amount)
    sign = CURRENCY_SIGNS.get(currency or 0)
    return f"{text} {sign}" if sign else text


def iso_code(currency: int | None) -> str:
    """The alphabetic code ("RUB"); an unknown currency keeps its number; none is ""."""
    if currency is None:
        return ""
    return CURRENCY_ISO.get(currency, str(currency))
