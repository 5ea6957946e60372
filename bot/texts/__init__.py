"""User-facing texts, English and Russian, one module per conversation area.

Each area module defines `TEXTS: dict[str, tuple[str, str]]` (key -> (en, ru)); keys are
prefixed with the area. Texts are HTML (parse_mode HTML): placeholders are filled with
already-escaped values by `Translator`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Final

from bot.texts import activations, buy, common, history, keys, settings

LANGUAGES: Final = ("en", "ru")
DEFAULT_LANGUAGE: Final = "en"


def _merge(*areas: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for area in areas:
        for key, value in area.items():
            if key in merged:
                raise ValueError(f"text {key!r} is defined twice")
            merged[key] = value
    return merged


CATALOGUE: Final = _merge(common.TEXTS, keys.TEXTS, buy.TEXTS, activations.TEXTS,
                          history.TEXTS, settings.TEXTS)


class Raw(str):
    """A value that is already HTML and must not be escaped again."""

    __slots__ = ()


def normalize_language(code: str | None) -> str:
    if code and code.lower()[:2] in LANGUAGES:
        return code.lower()[:2]
    return DEFAULT_LANGUAGE


class Translator:
    """`t("buy.confirm", price="1.50")`: values are HTML-escaped unless wrapped in Raw."""

    __slots__ = ("lang",)

    def __init__(self, lang: str | None) -> None:
        self.lang = normalize_language(lang)

    def __call__(self, key: str, /, **values: object) -> str:
        pair = CATALOGUE.get(key)
        if pair is None:
            return key
        template = pair[1] if self.lang == "ru" else pair[0]
        if not values:
            return template
        safe = {k: v if isinstance(v, Raw) else html.escape(str(v), quote=False)
                for k, v in values.items()}
        return template.format(**safe)


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)
