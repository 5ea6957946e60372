"""Which country a phone number belongs to, from its dialling code.

A purchase for "any country" leaves the choice to the provider. getNumberV2's
``countryCode`` is a dialling code here (see the API notes, contradiction 3), which the
number itself starts with, so the number carries everything the provider said and the
country can be shown for old activations and after a restart alike.

``data/dialling_codes.json`` maps a dialling prefix to an ISO country; the longest
prefix wins, so shared codes are told apart where the national digits allow it:
+7 6/7 is Kazakhstan, the rest of +7 Russia; +1 with a Canadian or Caribbean area code
is that country, the rest of +1 the USA.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


def _load(name: str) -> dict[str, str]:
    data = resources.files("bot").joinpath("data", name).read_text(encoding="utf-8")
    table = json.loads(data)
    assert isinstance(table, dict)
    return {str(k): str(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def _prefixes() -> dict[str, str]:
    return _load("dialling_codes.json")


@lru_cache(maxsize=1)
def _country_ids() -> dict[str, int]:
    """ISO code -> the provider's country id. Where several ids share an ISO code (the
    USA and "USA (virtual)"), the plain one is taken: the number does not tell them apart."""
    names = _load("countries.json")
    ids: dict[str, int] = {}
    for raw_id, iso in sorted(_load("country_iso.json").items(), key=lambda kv: int(kv[0])):
        if iso not in ids or "virtual" in names.get(str(ids[iso]), "").lower():
            ids[iso] = int(raw_id)
    return ids


def iso_of(phone: str) -> str | None:
    """The ISO country code of an international number, or None when unknown."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    table = _prefixes()
    for length in range(min(4, len(digits)), 0, -1):
        iso = table.get(digits[:length])
        if iso is not None:
            return iso
    return None


def country_of(phone: str) -> int | None:
    """The provider's country id for a number, or None when its code is unknown."""
    iso = iso_of(phone)
    return None if iso is None else _country_ids().get(iso)


@lru_cache(maxsize=1)
def _iso_by_id() -> dict[str, str]:
    return _load("country_iso.json")


def iso_of_country(country_id: int) -> str | None:
    """The ISO code of one of the provider's country ids, or None when unknown."""
    return _iso_by_id().get(str(country_id))
