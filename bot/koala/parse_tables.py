"""Pure parsers of the provider's tables: price lists (getPrices, getPricesV3) and the
activation history (getHistory). The shared helpers are in bot/koala/parse.py.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.koala.errors import error_from_text
from bot.koala.models import CountryOffer, HistoryEntry, ProviderOffer
from bot.koala.parse import Body, _codes, fail, to_float, to_int


def _table(body: Body) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise fail(body)
    return body


def _services(countries: dict[str, Any]) -> Iterable[tuple[int, str, Any]]:
    for country_key, services in countries.items():
        country = to_int(country_key)
        if country is None or not isinstance(services, dict):
            continue
        for service, entry in services.items():
            yield country, str(service), entry


def parse_prices_v1(body: Body) -> list[CountryOffer]:
    offers = []
    for country, service, entry in _services(_table(body)):
        if not isinstance(entry, dict):
            continue
        price, count = to_float(entry.get("cost")), to_int(entry.get("count"))
        if price is not None and count is not None:
            offers.append(CountryOffer(country, service, price, count))
    return offers


def parse_prices_v3(body: Body) -> list[CountryOffer]:
    offers = []
    for country, service, entry in _services(_table(body)):
        if not isinstance(entry, dict):
            continue
        providers = []
        raw = entry.get("providers") or {}
        items: Iterable[tuple[Any, Any]] = ()
        if isinstance(raw, dict):
            items = raw.items()
        elif isinstance(raw, list):
            items = enumerate(raw)
        for key, item in items:
            if not isinstance(item, dict):
                continue
            ident = to_int(item.get("provider_id", key))
            prices_raw = item.get("price")
            prices_list = prices_raw if isinstance(prices_raw, list) else [prices_raw]
            prices = tuple(sorted(p for p in (to_float(x) for x in prices_list) if p is not None))
            stock = to_int(item.get("count")) or 0
            if ident is not None and prices:
                providers.append(ProviderOffer(ident, prices[0], stock, prices))
        providers.sort(key=lambda p: (p.price, -p.count))
        price = to_float(entry.get("price"))
        count = to_int(entry.get("count"))
        stocked = [p for p in providers if p.count > 0]
        if price is None and providers:
            price = (stocked or providers)[0].price
        if count is None:
            count = sum(p.count for p in providers)
        if price is not None:
            offers.append(CountryOffer(country, service, price, count, tuple(providers)))
    return offers


_CODE_IN_TEXT = re.compile(r"\b\d{4,8}\b")


def _history_codes(row: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """Codes and the last SMS text of a history row. Rows name them differently
    (smsCode / code, smsText / sms / text, one value or a list); a row with only texts
    gives the code found in the last text."""
    codes = _codes(row.get("smsCode", row.get("code")))
    text: Any = row.get("smsText", row.get("sms", row.get("text")))
    if isinstance(text, str) and text.startswith("["):
        with contextlib.suppress(ValueError):
            text = json.loads(text)
    if isinstance(text, list):
        text = text[-1] if text else None
    text = str(text) if text not in (None, "") else None
    if not codes and text:
        found = _CODE_IN_TEXT.search(text)
        codes = (found.group(),) if found else ()
    return codes, text


def parse_history(body: Body) -> list[HistoryEntry]:
    """getHistory: a list of past activations (bare, wrapped, or a dict by id)."""
    if isinstance(body, str):
        if body.strip().upper() in {"NO_ACTIVATIONS", "NO_ACTIVATION", "NO_HISTORY"}:
            return []
        raise error_from_text(body)
    rows: Any
    if isinstance(body, list):
        rows = body
    else:
        rows = body.get("history", body.get("activations", body.get("data")))
        if rows is None and body and all(isinstance(v, Mapping) for v in body.values()):
            rows = body  # keyed by activation id
        if isinstance(rows, dict):
            rows = list(rows.values())
        if rows is None and str(body.get("status", "")).lower() == "success":
            rows = []
        if not isinstance(rows, list):
            raise fail(body)
    result = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        activation_id = to_int(row.get("activationId", row.get("id")))
        if activation_id is None:
            continue
        codes, text = _history_codes(row)
        status = row.get("activationStatus", row.get("status"))
        result.append(HistoryEntry(activation_id, codes, text,
                                   None if status is None else str(status)))
    return result
