"""How buy screens appear: the pressed message (or the open menu) is edited into the next
screen, or a new one is sent; a new menu takes the buttons off the previous one, so the
chat holds one live menu. Also the screens every buy step may end on (no key, prices
not loaded)."""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.catalog import Catalog
from bot.services.catalogue import (
    CatalogueService,
    MenuStore,
    OffersFailed,
    OffersProblem,
    PayingKey,
)
from bot.services.purchase import PurchaseService
from bot.texts import Translator
from bot.ui import keyboards_buy as kb
from handlers import menus
from handlers.menus import OpenMenu

log = logging.getLogger(__name__)

# A typed message, a pressed button, or the open menu that typed text edits.
Event = Message | CallbackQuery | OpenMenu
# Callback data prefixes of buy screens: a message showing one of these is the open menu.
_MENU_PREFIXES = ("s:", "c:", "p:", "b:")


@dataclass(frozen=True, slots=True)
class Buy:
    """What every buy screen needs, gathered from the dispatcher's data by the handler."""

    t: Translator
    bot: Bot
    catalogue: CatalogueService
    purchase: PurchaseService
    owner_id: int  # whose key pays here
    user_id: int  # who is looking (their private chat)

    @property
    def catalog(self) -> Catalog:
        return self.catalogue.catalog

    @property
    def menus(self) -> MenuStore:
        return self.catalogue.menus


async def show(ctx: Buy, event: Event, text: str,
               markup: InlineKeyboardMarkup | None = None, *, new: bool = False,
               menu: str = menus.OTHER) -> None:
    """Edit the pressed message (or the open menu) into the next screen, or send a new one.
    `menu` says what typed text means while this screen is the open menu."""
    # Bookkeeping comes first where it can: the screen appearing is the last step, so a
    # person who acts on it at once finds everything in place.
    is_menu = markup is not None and any(
        (b.callback_data or "").startswith(_MENU_PREFIXES)
        for row in markup.inline_keyboard for b in row)
    target = _edit_target(event, new=new)
    if _chat_id(event) != ctx.user_id:
        # A group: the remembered open menu is the person's private one (typed text
        # there edits it); a group menu is only ever pressed, never typed into.
        await put(ctx, event, text, markup, new=new)
        return
    previous = (await ctx.menus.get(ctx.user_id)).message_id
    if is_menu and previous is not None and (target is None or target[1] != previous):
        await menus.drop_buttons(ctx.bot, ctx.user_id, previous)  # one live menu per chat
    # The menu is kept in memory at once (what the person's next update reads) and
    # written to the user's row meanwhile, several people's together (MenuStore.begin);
    # the screen does not wait for the write. With several instances nothing is kept and
    # the next update may reach another one, which reads the row: written first, then.
    if target is not None:
        await _remember(ctx, *target, is_menu, menu, previous)
    shown = await put(ctx, event, text, markup, new=new)
    if shown != target:  # sent as a new message
        if target is not None and is_menu:
            await menus.drop_buttons(ctx.bot, *target)  # not editable, but maybe pressable
        await _remember(ctx, *shown, is_menu, menu, previous)


def _chat_id(event: Event) -> int:
    if isinstance(event, OpenMenu):
        return event.chat_id
    if isinstance(event, Message):
        return event.chat.id
    return event.message.chat.id if event.message is not None else event.from_user.id


def thread_of(event: Event) -> int | None:
    """The forum topic the person is writing in (None: General or no topics): the next
    screens, the card and the codes go there."""
    message = event.message if isinstance(event, CallbackQuery) else event
    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None


def _edit_target(event: Event, *, new: bool) -> tuple[int, int] | None:
    """The message `put` will try to edit, if any."""
    if isinstance(event, OpenMenu):
        return event.chat_id, event.message_id
    if isinstance(event, CallbackQuery) and not new and isinstance(event.message, Message):
        return event.message.chat.id, event.message.message_id
    return None


async def put(ctx: Buy, event: Event, text: str, markup: InlineKeyboardMarkup | None,
              *, new: bool) -> tuple[int, int]:
    """Show the screen; returns where it is now."""
    if isinstance(event, OpenMenu):
        chat_id = event.chat_id
        try:
            await ctx.bot.edit_message_text(text=text, chat_id=chat_id,
                                            message_id=event.message_id, reply_markup=markup)
            return chat_id, event.message_id
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return chat_id, event.message_id
            log.info("open menu not edited (%s); sending a new one", exc.message)
    elif isinstance(event, Message):
        chat_id = event.chat.id
    else:
        message = event.message
        assert message is not None
        chat_id = message.chat.id
        if not new and isinstance(message, Message):
            try:
                await message.edit_text(text, reply_markup=markup)
                return chat_id, message.message_id
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    return chat_id, message.message_id
                log.info("buy screen not edited (%s); sending a new one", exc.message)
    sent = await ctx.bot.send_message(chat_id, text, reply_markup=markup,
                                      message_thread_id=thread_of(event))
    return chat_id, sent.message_id


async def _remember(ctx: Buy, chat_id: int, message_id: int, is_menu: bool, menu: str,
                    previous: int | None) -> None:
    """Keep the user's open menu up to date: one live menu per private chat. Returns once
    it is kept (in memory, one instance) or written (several instances)."""
    if chat_id != ctx.user_id:
        return
    if is_menu:
        await ctx.menus.remember(ctx.user_id, message_id, menu)
    elif previous == message_id:  # buying, bought, an error: no menu any more
        await ctx.menus.remember(ctx.user_id, None, None)


async def loading(ctx: Buy, event: Event, *, new: bool = False) -> Event:
    """Say "Loading…" at once where the next screen will be, before a provider read that may
    take a while; the screen then replaces it. A typed message gets a message of its own."""
    if isinstance(event, CallbackQuery) and not new:
        message = event.message
        if isinstance(message, Message):
            with suppress(TelegramBadRequest):  # not modified: it says so already
                await message.edit_text(ctx.t("buy.loading"))
            return event
    chat_id, message_id = await put(ctx, event, ctx.t("buy.loading"), None, new=new)
    return OpenMenu(chat_id, message_id, menus.OTHER)


async def paying_key(ctx: Buy, event: Event, *,
                     new: bool = False) -> tuple[PayingKey, str] | None:
    """The key that pays here; without one, the screen says how to set it."""
    paying = await ctx.catalogue.paying_key(ctx.owner_id)
    if paying.key is None:
        if ctx.owner_id < 0:  # a group: only its admins can link a key, with /setkey
            await show(ctx, event, ctx.t("groups.no_key"), None, new=new)
            return None
        await show(ctx, event, ctx.t("common.bad_key" if paying.has_account else "common.no_key"),
                   kb.no_key(ctx.t, ctx.user_id), new=new)
        return None
    return paying, paying.key


async def offers_failed(ctx: Buy, event: Event, failed: OffersFailed, retry: CallbackData,
                        back: CallbackData | None = None, *, new: bool = False) -> None:
    """Why the prices could not be loaded, with Try again and Back to `back` (the screen
    the person came from, the services unless told)."""
    t, owner = ctx.t, ctx.user_id
    back = back or kb.services_page(owner)
    if failed.problem is OffersProblem.BAD_KEY:
        await show(ctx, event, t("common.bad_key"), kb.no_key(t, owner), new=new)
    elif failed.problem is OffersProblem.TRANSIENT:
        await show(ctx, event, t("buy.prices_failed"), kb.retry_back(t, retry, back), new=new)
    else:
        await show(ctx, event, t("common.provider_error", text=failed.text),
                   kb.retry_back(t, retry, back), new=new)


# Handler flags for CallbackAnswerMiddleware. A press is answered before the work
# (EARLY): the next screen may wait for a slow provider, and the spinner must not. A
# toast that says the outcome comes after (LATE, text via `callback_answer`); SELF: the
# handler answers by hand (a toast before slow work).
EARLY = {"callback_answer": {"pre": True}}
LATE = {"callback_answer": {"pre": False}}
SELF = {"callback_answer": {"disabled": True}}
