"""/history: past activations of this chat, page by page, and the whole of it as CSV."""

from __future__ import annotations

from contextlib import suppress
from datetime import timezone

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer

from bot.catalog import Catalog
from bot.limits import MESSAGE_LIMIT, cut, fit_html
from bot.money import money
from bot.services.dto import UserInfo
from bot.services.history import HistoryEntry, HistoryPage, HistoryService
from bot.texts import Raw, Translator, esc
from bot.ui import keyboards_account as kb
from bot.ui.callbacks import HistoryAction, HistoryCb
from bot.ui.cards import CODE_IN_LIST, phone_display, user_tz
from handlers.group_rules import member_names
from handlers.screens import close_menu, show


def _entry(entry: HistoryEntry, t: Translator, catalog: Catalog, tz: timezone,
           buyers: dict[int, str] | None = None) -> str:
    lines = [t("history.entry", n=entry.number, service=catalog.service_name(entry.service,
                                                                            t.lang),
               country=catalog.country_label(entry.country, t.lang),
               phone=phone_display(entry.phone), price=money(entry.cost, entry.currency),
               date=entry.bought_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"))]
    if buyers is not None:  # a group's history: who bought each
        lines.append(t("grules.buyer", name=buyers.get(entry.buyer_id, str(entry.buyer_id))))
    if entry.codes:
        # A code can be as long as a whole SMS: the page shows its start (the CSV all of it).
        shown = ", ".join(f"<code>{esc(cut(code, CODE_IN_LIST))}</code>" for code in entry.codes)
        lines.append(t("history.codes", codes=Raw(shown)))
    # The same words as the activation cards.
    lines.append(t(f"act.state.{entry.state}", price=money(entry.cost, entry.currency)))
    return "\n".join(lines)


def page_screen(page: HistoryPage, owner: int, t: Translator, user: UserInfo | None,
                catalog: Catalog, buyers: dict[int, str] | None = None
                ) -> tuple[str, InlineKeyboardMarkup | None]:
    if page.count == 0:
        return t("history.empty"), None
    tz = user_tz(user)
    parts = [t("history.header", count=page.count, total=money(page.total_spent, page.currency))]
    if page.pages > 1:
        parts.append(t("common.page", page=page.page + 1, pages=page.pages))
    parts += [_entry(entry, t, catalog, tz, buyers) for entry in page.entries]
    # Telegram refuses a page over its limit rather than shortening it.
    return (fit_html("\n\n".join(parts), MESSAGE_LIMIT),
            kb.history_nav(t, owner, page.page, page.pages))


async def _buyers(bot: Bot, chat: Chat, page: HistoryPage) -> dict[int, str] | None:
    """Names of the page's buyers in a group; None in a private chat."""
    if chat.type == "private":
        return None
    return await member_names(bot, chat.id, [entry.buyer_id for entry in page.entries])


def make_router() -> Router:
    router = Router(name="history")

    @router.message(Command("history"))
    async def history_command(message: Message, bot: Bot, t: Translator,
                              db_user: UserInfo | None,
                              catalog: Catalog, history: HistoryService) -> None:
        assert message.from_user is not None
        page = await history.page(message.chat.id, 0)
        buyers = await _buyers(bot, message.chat, page)
        text, markup = page_screen(page, message.from_user.id, t, db_user, catalog, buyers)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(HistoryCb.filter(F.action == HistoryAction.PAGE), F.message)
    async def turn_page(query: CallbackQuery, callback_data: HistoryCb, bot: Bot, t: Translator,
                        db_user: UserInfo | None, catalog: Catalog,
                        history: HistoryService) -> None:
        assert query.message is not None
        page = await history.page(query.message.chat.id, callback_data.page)
        buyers = await _buyers(bot, query.message.chat, page)
        await show(query, *page_screen(page, query.from_user.id, t, db_user, catalog, buyers))

    @router.callback_query(HistoryCb.filter(F.action == HistoryAction.CSV), F.message)
    async def send_csv(query: CallbackQuery, bot: Bot, t: Translator, history: HistoryService,
                       callback_answer: CallbackAnswer) -> None:
        assert query.message is not None
        chat_id = query.message.chat.id
        callback_answer.text = t("history.csv_sent")
        buyers = None
        if query.message.chat.type != "private":  # a group's CSV has a buyer column
            buyers = await member_names(bot, chat_id, await history.buyers(chat_id))
        data, count = await history.csv(chat_id, buyers)
        await bot.send_document(chat_id, BufferedInputFile(data, filename="history.csv"),
                                caption=t("history.csv_caption", count=count))

    @router.callback_query(HistoryCb.filter(F.action == HistoryAction.CLOSE), F.message)
    async def close(query: CallbackQuery) -> None:
        if not await close_menu(query) and isinstance(query.message, Message):
            with suppress(TelegramAPIError):  # too old to delete: at least drop the buttons
                await query.message.edit_reply_markup(reply_markup=None)

    return router
