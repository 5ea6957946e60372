"""Buying in a private chat (the person's key) or a group (the group's key, its rules):
service menu and search, countries with live prices, the supplier picker, the confirm
screen, the purchase itself and a way forward from every error (handlers/buy_*.py; the
rules live in bot/services/catalogue.py and purchase.py).

Every screen is rebuilt from its callback data alone, so buttons keep working after a
restart. The open menu (handlers/menus.py) is edited in place by typed text, and a new one
takes the buttons off the previous one, so the chat holds one live menu.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.inline_filters import Pure
from handlers import buy_confirm, buy_countries, buy_purchase, buy_services


def make_router() -> Router:
    router = Router(name="buy")
    # Private chats and groups (owner_id says whose key pays); not channels.
    router.message.filter(Pure(F.chat.type != ChatType.CHANNEL))
    router.callback_query.filter(Pure(F.message.chat.type != ChatType.CHANNEL))
    # Presses are answered by the dispatcher's CallbackAnswers middleware, following the
    # EARLY/LATE/SELF flags set in buy_screens.
    # Services last: it takes free text as a service search.
    router.include_routers(buy_countries.make_router(), buy_confirm.make_router(),
                           buy_purchase.make_router(), buy_services.make_router())
    return router
