"""The framework's floor: a bot that answers `bench.latency`'s menus with the same Telegram
requests as koalabot and nothing else.

    python -m bench.latency --rate 300 --activations 0 --bot bench.floor_bot

aiogram 3 with koalabot's fixes to the framework's plumbing (its session: JSON bodies,
echoes not rebuilt; its event loop; magic filters run inline, not in a thread; keyboards
exported without the deep copy), the default FSM storage and aiogram's middlewares, one
router: a command gets one message, /buy
a menu of twelve service buttons; a button press is answered and its message edited into
the next screen (a dozen country buttons and paging, as koalabot's). No database, no
provider, no texts, no poller. What this costs per update is what any bot on this stack
pays to take an update and answer it the way koalabot does; koalabot's CPU above it is its
own work. Reads BOT_TOKEN, TELEGRAM_API_URL and METRICS_PORT (the handler histogram,
`koalabot_handler_seconds`, that bench.latency reads).
"""

from __future__ import annotations

import os

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from prometheus_client import start_http_server

from bot.event_loop import run
from bot.inline_filters import inline_pure_filters
from bot.metrics import Metrics, UpdateMetrics
from bot.session import BotSession
from bot.ui.builder import InlineKeyboardBuilder

SERVICES = ["wa", "tg", "vk", "ok", "av", "ig", "fb", "tw", "go", "ya", "ds", "mm"]
COUNTRIES = list(range(12))


def services(owner: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for svc in SERVICES:
        kb.button(text=f"Service {svc} · from 10.00 ₽", callback_data=f"s:pk:{owner}:0:{svc}:")
    kb.button(text="🔎 Search", callback_data=f"s:h:{owner}:0::")
    kb.adjust(2)
    return kb.as_markup()


def countries(owner: int, svc: str, page: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for c in COUNTRIES:
        kb.button(text=f"Country {c} · 10.00 ₽ · 1,000",
                  callback_data=f"c:pk:{owner}:{svc}:{c}:p:0:")
    kb.button(text="◀", callback_data=f"c:pg:{owner}:{svc}:{max(page - 1, 0)}:p:")
    kb.button(text=f"{page + 1}/5", callback_data=f"c:n:{owner}:{svc}:0:p:")
    kb.button(text="▶", callback_data=f"c:pg:{owner}:{svc}:{page + 1}:p:")
    kb.adjust(*([1] * len(COUNTRIES)), 3)
    return kb.as_markup()


def confirm(owner: int, svc: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ Buy for 10.00 ₽", callback_data=f"b:ok:{owner}:{svc}:0:1000:0")
    kb.button(text="◀ Back", callback_data=f"c:pg:{owner}:{svc}:0:p:")
    return kb.as_markup()


async def pressed(query: CallbackQuery) -> tuple[Message, list[str]]:
    """Stop the spinner first, as koalabot does for its menus; the message and data parts."""
    await query.answer()
    if not isinstance(query.message, Message) or query.data is None:
        raise LookupError("a press without its message")
    return query.message, query.data.split(":")


def make_router() -> Router:
    router = Router(name="floor")

    @router.message(Command("start", "balance"))
    async def text(message: Message) -> None:
        await message.answer("Balance: 1,000.00 ₽\n\nChoose what to do next.")

    @router.message(Command("buy"))
    async def buy(message: Message) -> None:
        assert message.from_user is not None
        await message.answer("Choose a service", reply_markup=services(message.from_user.id))

    @router.callback_query(F.data.startswith("s:pk:"))
    async def service(query: CallbackQuery) -> None:
        message, data = await pressed(query)
        svc = data[4]
        await message.edit_text(f"{svc}: choose a country (12 with numbers)",
                                      reply_markup=countries(query.from_user.id, svc, 0))

    @router.callback_query(F.data.startswith("c:pk:"))
    async def country(query: CallbackQuery) -> None:
        message, data = await pressed(query)
        svc = data[3]
        await message.edit_text("Buy a number for 10.00 ₽?",
                                      reply_markup=confirm(query.from_user.id, svc))

    @router.callback_query(F.data.startswith("c:pg:"))
    async def page(query: CallbackQuery) -> None:
        message, data = await pressed(query)
        svc, number = data[3], data[4]
        await message.edit_text(f"{svc}: choose a country (12 with numbers)",
                                      reply_markup=countries(query.from_user.id, svc,
                                                             int(number)))

    return router


async def main() -> None:
    session = BotSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=session)
    metrics = Metrics()
    start_http_server(int(os.environ["METRICS_PORT"]), "127.0.0.1", registry=metrics.registry)
    dp = Dispatcher()
    dp.update.outer_middleware(UpdateMetrics(metrics))
    dp.include_router(make_router())
    inline_pure_filters(dp)
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    run(main(), os.environ.get("EVENT_LOOP", "uvloop"))
