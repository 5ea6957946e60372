"""Telegram's size limits, and cutting texts to them.

Telegram refuses, rather than shortens, a text over its limit (a message over 4096
characters, a caption over 1024, a button-press answer over 200): the whole request is
lost. Lengths are counted in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import AnswerCallbackQuery
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 200
ELLIPSIS = "…"


def units(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """Plain text cut to `limit` units, with an ellipsis when something was dropped."""
    if units(text) <= limit:
        return text
    room = limit - units(ELLIPSIS)
    out: list[str] = []
    used = 0
    for char in text:
        size = units(char)
        if used + size > room:
            break
        out.append(char)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


class _Cutter(HTMLParser):
    """Keeps the markup of an HTML text while counting only its visible characters."""

    def __init__(self, room: int) -> None:
        super().__init__(convert_charrefs=True)
        self.room = room
        self.used = 0
        self.full = False
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.full:
            return
        rendered = "".join(f' {k}="{html.escape(v or "")}"' for k, v in attrs)
        self.out.append(f"<{tag}{rendered}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.full or tag not in self.open:
            return
        while self.open:
            closed = self.open.pop()
            self.out.append(f"</{closed}>")
            if closed == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.full:
            return
        left = self.room - self.used
        if units(data) <= left:
            self.out.append(html.escape(data, quote=False))
            self.used += units(data)
            return
        kept = cut(data, left + units(ELLIPSIS))[:-1] if left > 0 else ""
        self.out.append(html.escape(kept, quote=False) + ELLIPSIS)
        self.used = self.room
        self.full = True

    def result(self) -> str:
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def visible_units(text_html: str) -> int:
    """Length of an HTML text once Telegram has parsed its markup."""
    parser = _Cutter(room=10**9)
    parser.feed(text_html)
    parser.close()
    return parser.used


def fit_html(text_html: str, limit: int = MESSAGE_LIMIT) -> str:
    """An HTML text whose visible part is at most `limit` units, tags kept balanced."""
    if visible_units(text_html) <= limit:
        return text_html
    parser = _Cutter(room=limit - units(ELLIPSIS))
    parser.feed(text_html)
    parser.close()
    return parser.result()


class CallbackAnswerLimit(BaseRequestMiddleware):
    """Every answer to a button press fits Telegram's 200 characters, whoever wrote it:
    a longer one is refused (MESSAGE_TOO_LONG) and the person sees a spinner, then nothing."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if isinstance(method, AnswerCallbackQuery) and method.text:
            method.text = cut(method.text, CALLBACK_LIMIT)
        return await make_request(bot, method)
