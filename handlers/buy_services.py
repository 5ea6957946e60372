"""The service menu, its search, and typed text in a private chat."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.catalogue import CatalogueService
from bot.services.purchase import PurchaseService
from bot.texts import Translator
from bot.ui import keyboards_buy as kb
from bot.ui.callbacks import ServiceAction, ServiceCb
from handlers import menus
from handlers.buy_countries import countries
from handlers.buy_screens import EARLY, LATE, Buy, Event, paying_key, show

# Button data of buy screens (other than the plain "open the menu" one), to tell a buy
# screen, which is edited in place, from another area's message, which is left alone.
_OWN = {ServiceAction.PICK, ServiceAction.CLOSE, ServiceAction.HINT, ServiceAction.SEARCH}
_OWN_PREFIXES = ("c:", "p:", "b:")


class BuyStates(StatesGroup):
    # Set by older versions in a country menu; the open menu on the user's row took over.
    country = State()


def _is_buy_screen(message: Message) -> bool:
    markup = message.reply_markup
    if markup is None:
        return False
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if data.startswith(_OWN_PREFIXES):
                return True
            if data.startswith("s:"):
                try:
                    if ServiceCb.unpack(data).action in _OWN:
                        return True
                except (TypeError, ValueError):
                    continue
    return False


async def service_menu(ctx: Buy, event: Event, page: int = 0, *, new: bool = False) -> None:
    if await paying_key(ctx, event) is None:
        return
    entries = await ctx.catalogue.menu_entries(ctx.user_id)
    await show(ctx, event, ctx.t("buy.menu"),
               kb.service_menu(ctx.t, ctx.catalog, ctx.user_id, entries, page), new=new,
               menu=menus.SERVICES)


async def search_results(ctx: Buy, event: Event, q: str, page: int = 0) -> None:
    t, owner = ctx.t, ctx.user_id
    entries = await ctx.catalogue.search(owner, q, t.lang)
    if not entries:
        await show(ctx, event, t("buy.nothing_found", q=q), kb.nothing_found(t, owner),
                   menu=menus.SERVICES)
        return
    await show(ctx, event, t("buy.search_results", q=q),
               kb.service_menu(t, ctx.catalog, owner, entries, page, q=q),
               menu=menus.SERVICES)


def make_router() -> Router:
    router = Router(name="buy_services")

    @router.message(Command("buy"))
    async def cmd_buy(message: Message, state: FSMContext, t: Translator, bot: Bot,
                      catalogue: CatalogueService, purchase: PurchaseService,
                      owner_id: int) -> None:
        assert message.from_user is not None
        await state.clear()
        ctx = Buy(t, bot, catalogue, purchase, owner_id, message.from_user.id)
        await service_menu(ctx, message)

    @router.callback_query(ServiceCb.filter(F.action == ServiceAction.HINT), flags=LATE)
    async def on_hint(query: CallbackQuery, t: Translator,
                      callback_answer: CallbackAnswer) -> None:
        callback_answer.text = t("buy.search_hint")
        callback_answer.show_alert = True

    @router.callback_query(ServiceCb.filter(F.action == ServiceAction.NOOP), flags=EARLY)
    async def on_noop(query: CallbackQuery) -> None:
        """The page counter: nothing to do (the press is answered)."""

    @router.callback_query(ServiceCb.filter(F.action == ServiceAction.CLOSE), flags=EARLY)
    async def on_close(query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        message = query.message
        if isinstance(message, Message):
            try:
                await message.delete()
            except TelegramAPIError:  # too old to delete: at least drop the buttons
                await message.edit_reply_markup(reply_markup=None)

    @router.callback_query(ServiceCb.filter(F.action == ServiceAction.PICK), flags=EARLY)
    async def on_pick(query: CallbackQuery, callback_data: ServiceCb, state: FSMContext,
                      t: Translator, bot: Bot, catalogue: CatalogueService,
                      purchase: PurchaseService, owner_id: int) -> None:
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        if callback_data.svc:
            await countries(ctx, query, callback_data.svc)
        else:
            await state.clear()
            await service_menu(ctx, query, new=not _on_buy_screen(query))

    @router.callback_query(ServiceCb.filter(F.action == ServiceAction.SEARCH), flags=EARLY)
    async def on_search(query: CallbackQuery, callback_data: ServiceCb, state: FSMContext,
                        t: Translator, bot: Bot, catalogue: CatalogueService,
                        purchase: PurchaseService, owner_id: int) -> None:
        await state.clear()
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        if callback_data.q:
            await search_results(ctx, query, callback_data.q, callback_data.page)
        else:
            await service_menu(ctx, query, callback_data.page, new=not _on_buy_screen(query))

    @router.callback_query(ServiceCb.filter(F.action == ServiceAction.PAGE), flags=EARLY)
    async def on_page(query: CallbackQuery, callback_data: ServiceCb, state: FSMContext,
                      t: Translator, bot: Bot, catalogue: CatalogueService,
                      purchase: PurchaseService, owner_id: int) -> None:
        """Also the "🛒 Buy" button of other areas: their message is left as it is."""
        await state.clear()
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await service_menu(ctx, query, callback_data.page, new=not _on_buy_screen(query))

    # Only in private: in a group, people talk to each other, not to the menu.
    @router.message(StateFilter(None, BuyStates.country), F.text, ~F.text.startswith("/"),
                    F.chat.type == ChatType.PRIVATE)
    async def typed_text(message: Message, state: FSMContext, t: Translator, bot: Bot,
                         catalogue: CatalogueService, purchase: PurchaseService,
                         owner_id: int) -> None:
        """Typed text edits the open menu: a country menu filters its countries, any other
        screen becomes the services matching it. With no open menu, the answer is new."""
        assert message.from_user is not None
        assert message.text is not None
        ctx = Buy(t, bot, catalogue, purchase, owner_id, message.from_user.id)
        text = message.text.strip()[:64]
        await state.clear()
        menu = menus.open_menu(ctx.user_id, await ctx.menus.get(ctx.user_id))
        if menu is not None and menu.country_menu is not None:
            svc, sort = menu.country_menu
            await countries(ctx, menu, svc, sort=sort, q=text)
            return
        target: Event = menu or message
        if await paying_key(ctx, target) is None:
            return
        await search_results(ctx, target, text)

    return router


def _on_buy_screen(query: CallbackQuery) -> bool:
    message = query.message
    return isinstance(message, Message) and _is_buy_screen(message)
