"""aiogram's InlineKeyboardBuilder without the deep copy on export.

`KeyboardBuilder.export()` (so `as_markup()`) returns `deepcopy` of its buttons, so that a
builder can be changed after its markup was taken. Our keyboards are pure functions that
build, export once and drop the builder; the copy of a dozen pydantic buttons was 7 % of
the bot's CPU per /buy update (py-spy under `bench.latency`). The rows are still copied,
so a builder that is used again cannot change a markup already sent. It reads the
builder's `_markup`, the one attribute aiogram's own subclasses use for this
(tests/test_keyboard_builder.py checks it matches aiogram's export).
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder as _AiogramBuilder


class InlineKeyboardBuilder(_AiogramBuilder):
    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
