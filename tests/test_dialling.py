"""The country of a number, from its dialling code (used for "any country" purchases)."""

from __future__ import annotations

import pytest

from bot.dialling import country_of, iso_of


@pytest.mark.parametrize(("phone", "iso", "country"), [
    ("79161234567", "RU", 0),
    ("+7 701 123 4567", "KZ", 2),  # +7 shared: Kazakhstan by its national digits
    ("12125550123", "US", 187),  # the plain USA, not "USA (virtual)"
    ("14165550123", "CA", 36),  # +1 shared: Canada by its area code
    ("18765550123", "JM", None),
    ("447700900123", "GB", 16),
    ("380661234567", "UA", 1),
    ("9991234567", None, None),
    ("", None, None),
])
def test_country_of_a_number(phone: str, iso: str | None, country: int | None) -> None:
    assert iso_of(phone) == iso
    if country is not None or iso is None:
        assert country_of(phone) == country
    else:
        assert country_of(phone) is not None
