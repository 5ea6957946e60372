"""/history: past activations of this chat, page by page, and the whole of it as CSV."""

from __future__ import annotations

import csv
import io
from contextlib import suppress
from datetime import UTC, datetime, timezone

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.catalog import Catalog
from bot.limits import MESSAGE_LIMIT, cut, fit_html
from bot.money import amount_text, iso_code, money
from bot.texts import Raw, Translator, esc
from bot.ui import keyboards_account as kb
from bot.ui.callbacks import HistoryCb
from bot.ui.cards import CODE_IN_LIST, phone_display, shown_country, user_tz
from handlers.keys import show
from storage.models import Activation, Code, User
from storage.repo import ActivationRepo, CodeRepo
from storage.states import ActivationState

router = Router(name="history")

PAGE_SIZE = 5
_CSV_BATCH = 500
CSV_COLUMNS = ("date_utc", "service_code", "service", "country", "phone", "price", "currency",
               "state", "codes")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def state_text(a: Activation, t: Translator) -> str:
    """The same words as the activation cards."""
    state = ActivationState(a.state)
    if state == ActivationState.WAITING and a.resend_requested:
        return t("act.state.resend")
    return t(f"act.state.{state.value}", price=money(a.cost, a.currency))


def _entry(n: int, a: Activation, codes: list[Code], t: Translator, catalog: Catalog,
           tz: timezone) -> str:
    lines = [t("history.entry", n=n, service=catalog.service_name(a.service, t.lang),
               country=catalog.country_label(shown_country(a), t.lang),
               phone=phone_display(a.phone),
               price=money(a.cost, a.currency),
               date=_aware(a.bought_at).astimezone(tz).strftime("%Y-%m-%d %H:%M"))]
    if codes:
        # A code can be as long as a whole SMS: the page shows its start (the CSV all of it).
        shown = ", ".join(f"<code>{esc(cut(c.code, CODE_IN_LIST))}</code>" for c in codes)
        lines.append(t("history.codes", codes=Raw(shown)))
    lines.append(state_text(a, t))
    return "\n".join(lines)


async def render_page(chat_id: int, page: int, owner: int, t: Translator, user: User | None,
                      catalog: Catalog, activations: ActivationRepo,
                      codes: CodeRepo) -> tuple[str, InlineKeyboardMarkup | None]:
    count = await activations.count(chat_id)
    if count == 0:
        return t("history.empty"), None
    pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
    page = max(0, min(page, pages - 1))  # the history may have shrunk or grown since
    rows = await activations.history(chat_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    found = await codes.for_activations(a.id for a in rows if a.id is not None)
    spent = await activations.spending(chat_id)
    currency = rows[0].currency if rows else None
    tz = user_tz(user)
    parts = [t("history.header", count=count, total=money(spent.total, currency))]
    if pages > 1:
        parts.append(t("common.page", page=page + 1, pages=pages))
    parts += [_entry(page * PAGE_SIZE + i + 1, a, found.get(a.id or 0, []), t, catalog, tz)
              for i, a in enumerate(rows)]
    # Telegram refuses a page over its limit rather than shortening it.
    return fit_html("\n\n".join(parts), MESSAGE_LIMIT), kb.history_nav(t, owner, page, pages)


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts like a formula.
    return f"'{value}" if value[:1] in {"=", "@", "+", "-", "\t", "\r"} else value


async def history_csv(chat_id: int, catalog: Catalog, activations: ActivationRepo,
                      codes: CodeRepo) -> tuple[bytes, int]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    offset = total = 0
    while True:
        batch = await activations.history(chat_id, offset=offset, limit=_CSV_BATCH)
        if not batch:
            break
        found = await codes.for_activations(a.id for a in batch if a.id is not None)
        for a in batch:
            writer.writerow([
                _aware(a.bought_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                _cell(a.service), _cell(catalog.service_name(a.service, "en")),
                catalog.country_name(shown_country(a), "en"), a.phone, amount_text(a.cost),
                iso_code(a.currency),
                ActivationState(a.state).value,
                " ".join(_cell(c.code) for c in found.get(a.id or 0, [])),
            ])
        total += len(batch)
        offset += len(batch)
    return out.getvalue().encode("utf-8"), total


@router.message(Command("history"))
async def history_command(message: Message, t: Translator, db_user: User | None,
                          catalog: Catalog, activations: ActivationRepo,
                          codes: CodeRepo) -> None:
    assert message.from_user is not None
    text, markup = await render_page(message.chat.id, 0, message.from_user.id, t, db_user,
                                     catalog, activations, codes)
    await message.answer(text, reply_markup=markup)


@router.callback_query(HistoryCb.filter())
async def history_button(query: CallbackQuery, callback_data: HistoryCb, bot: Bot,
                         t: Translator, db_user: User | None, catalog: Catalog,
                         activations: ActivationRepo, codes: CodeRepo) -> None:
    message = query.message
    if callback_data.o != query.from_user.id or message is None:
        await query.answer(t("common.not_yours"), show_alert=True)
        return
    chat_id = message.chat.id
    if callback_data.action == "page":
        await query.answer()
        text, markup = await render_page(chat_id, callback_data.page, callback_data.o, t,
                                         db_user, catalog, activations, codes)
        await show(query, text, markup)
    elif callback_data.action == "csv":
        await query.answer(t("history.csv_sent"))
        data, count = await history_csv(chat_id, catalog, activations, codes)
        await bot.send_document(chat_id, BufferedInputFile(data, filename="history.csv"),
                                caption=t("history.csv_caption", count=count))
    elif callback_data.action == "close":
        await query.answer()
        if isinstance(message, Message):
            try:
                await message.delete()
            except TelegramAPIError:  # too old to delete: at least drop the buttons
                with suppress(TelegramAPIError):
                    await message.edit_reply_markup(reply_markup=None)
    else:
        await query.answer(t("common.stale"))
