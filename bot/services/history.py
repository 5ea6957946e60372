"""A chat's past activations: pages, totals and the whole of it as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.catalog import Catalog
from bot.money import amount_text, iso_code
from bot.ui.cards import shown_country
from storage.db import SessionFactory
from storage.models import Activation
from storage.repo import ActivationRepo, CodeRepo
from storage.repos.group_rules import GroupRulesRepo
from storage.states import ActivationState

PAGE_SIZE = 5
_CSV_BATCH = 500
CSV_COLUMNS = ("date_utc", "service_code", "service", "country", "phone", "price", "currency",
               "state", "codes")
BUYER_COLUMNS = ("buyer_id", "buyer")
_MAX_BUYERS = 10_000


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def state_key(activation: Activation) -> str:
    """The activation's state as the cards name it (`act.state.<key>`)."""
    state = ActivationState(activation.state)
    if state == ActivationState.WAITING and activation.resend_requested:
        return "resend"
    return state.value


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    number: int  # 1 for the newest
    service: str
    country: int | None
    phone: str
    cost: float
    currency: int | None
    bought_at: datetime  # aware, UTC
    state: str  # see state_key
    codes: tuple[str, ...]
    buyer_id: int = 0  # who bought (a group's history names them)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    count: int  # activations in all
    page: int  # 0-based, within range
    pages: int
    total_spent: float
    currency: int | None
    entries: tuple[HistoryEntry, ...]


class HistoryService:
    def __init__(self, db: SessionFactory, catalog: Catalog) -> None:
        self.db = db
        self.catalog = catalog

    async def page(self, chat_id: int, page: int) -> HistoryPage:
        async with self.db() as session:
            activations, codes = ActivationRepo(session), CodeRepo(session)
            count = await activations.count(chat_id)
            if count == 0:
                return HistoryPage(0, 0, 0, 0.0, None, ())
            pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
            page = max(0, min(page, pages - 1))  # the history may have shrunk or grown since
            rows = await activations.history(chat_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
            found = await codes.for_activations(row.id for row in rows if row.id is not None)
            spent = await activations.spending(chat_id)
        entries = tuple(
            HistoryEntry(number=page * PAGE_SIZE + i + 1, service=row.service,
                         country=shown_country(row), phone=row.phone, cost=row.cost,
                         currency=row.currency, bought_at=_aware(row.bought_at),
                         state=state_key(row),
                         codes=tuple(code.code for code in found.get(row.id or 0, [])),
                         buyer_id=row.buyer_id)
            for i, row in enumerate(rows))
        currency = rows[0].currency if rows else None
        return HistoryPage(count, page, pages, spent.total, currency, entries)

    async def buyers(self, chat_id: int) -> list[int]:
        """Everyone who bought in this chat (a group's CSV names them)."""
        async with self.db() as session:
            return await GroupRulesRepo(session).recent_buyers(chat_id, _MAX_BUYERS)

    async def csv(self, chat_id: int,
                  buyers: Mapping[int, str] | None = None) -> tuple[bytes, int]:
        """The whole history as CSV (UTF-8), and how many activations it holds. With
        `buyers` (a group: user id -> name) each row also says who bought."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS + (BUYER_COLUMNS if buyers is not None else ()))
        offset = total = 0
        catalog = self.catalog
        while True:
            async with self.db() as session:
                batch = await ActivationRepo(session).history(chat_id, offset=offset,
                                                              limit=_CSV_BATCH)
                if not batch:
                    break
                found = await CodeRepo(session).for_activations(
                    row.id for row in batch if row.id is not None)
            for row in batch:
                writer.writerow([
                    _aware(row.bought_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    _cell(row.service), _cell(catalog.service_name(row.service, "en")),
                    catalog.country_name(shown_country(row), "en"), row.phone,
                    amount_text(row.cost), iso_code(row.currency),
                    ActivationState(row.state).value,
                    " ".join(_cell(code.code) for code in found.get(row.id or 0, [])),
                    *((row.buyer_id, _cell(buyers.get(row.buyer_id, str(row.buyer_id))))
                      if buyers is not None else ()),
                ])
            total += len(batch)
            offset += len(batch)
        return out.getvalue().encode("utf-8"), total


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts like a formula.
    return f"'{value}" if value[:1] in {"=", "@", "+", "-", "\t", "\r"} else value
