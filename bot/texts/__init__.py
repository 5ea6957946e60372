"""User-facing texts, English and Russian, as Fluent files in `bot/locales/<lang>/*.ftl`.

Call sites keep the dotted keys (`t("buy.confirm", price=...)`); Fluent ids cannot contain
dots, so a key maps to its id by turning every "." into "-" (`buy.confirm` -> `buy-confirm`).
Texts are HTML (parse_mode HTML): values are HTML-escaped here unless wrapped in `Raw`, then
handed to Fluent as strings, so Fluent never reformats them (no locale digit grouping, no float
rounding). Only a value used as a selector (`{ $count -> [one] ... }`) stays a number, because
Fluent picks the plural form from it.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import fluent_number
from fluent.syntax import ast as ftl

LANGUAGES: Final = ("en", "ru")
DEFAULT_LANGUAGE: Final = "en"

log = logging.getLogger(__name__)


class Raw(str):
    """A value that is already HTML and must not be escaped again."""

    __slots__ = ()


def normalize_language(code: str | None) -> str:
    if code and code.lower()[:2] in LANGUAGES:
        return code.lower()[:2]
    return DEFAULT_LANGUAGE


def message_id(key: str) -> str:
    """The Fluent id of a dotted key: `buy.btn.any` -> `buy-btn-any`."""
    return key.replace(".", "-")


def message_key(fluent_id: str) -> str:
    """The dotted key of a Fluent id (keys never contain "-")."""
    return fluent_id.replace("-", ".")


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One language's texts: the bundle that formats them, and per message the variables
    used as selectors (they must reach Fluent as numbers, every other value as a string)."""

    bundle: FluentBundle
    selectors: dict[str, frozenset[str]]


def locale_files(lang: str) -> Iterator[tuple[str, str]]:
    """(file name, text) of every .ftl file of `lang`, in name order."""
    folder = resources.files("bot").joinpath("locales", lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".ftl"):
            yield entry.name, entry.read_text(encoding="utf-8")


def _selector_variables(node: object) -> Iterator[str]:
    """Names of the variables a pattern selects on, at any depth."""
    if isinstance(node, ftl.SelectExpression) and isinstance(
            node.selector, ftl.VariableReference):
        yield node.selector.id.name
    if isinstance(node, ftl.BaseNode):
        for value in vars(node).values():
            for child in value if isinstance(value, list) else [value]:
                yield from _selector_variables(child)


@cache
def catalogue(lang: str) -> Catalogue:
    """Parsed once, on first use. Broken files fail here loudly rather than show half texts."""
    return build_catalogue(lang, locale_files(lang))


def load() -> None:
    """Parse every language now (at start-up): a broken file stops the bot before it serves
    anyone, and the first user does not wait for the parsing."""
    for lang in LANGUAGES:
        catalogue(lang)


def build_catalogue(lang: str, files: Iterable[tuple[str, str]]) -> Catalogue:
    # use_isolating=False: Fluent would otherwise wrap every value in invisible Unicode
    # isolation marks, which end up inside copied codes and phone numbers.
    bundle = FluentBundle([lang], use_isolating=False)
    selectors: dict[str, frozenset[str]] = {}
    for name, text in files:
        resource = FluentResource(text)
        for item in resource.body:
            if isinstance(item, ftl.Junk):
                raise ValueError(f"{lang}/{name}: cannot parse {(item.content or '')[:80]!r}")
            if isinstance(item, ftl.Message):
                if item.id.name in selectors:
                    raise ValueError(f"{lang}/{name}: {item.id.name!r} is defined twice")
                selectors[item.id.name] = frozenset(_selector_variables(item))
        bundle.add_resource(resource)
    return Catalogue(bundle, selectors)


_reported: set[tuple[str, str]] = set()


def _report_once(lang: str, key: str, problem: str) -> None:
    if (lang, key) not in _reported:
        _reported.add((lang, key))
        log.error("text %r (%s): %s", key, lang, problem)


def _fluent_value(value: object, selector: bool) -> object:
    if selector and isinstance(value, int | float) and not isinstance(value, bool):
        return fluent_number(value, useGrouping=False)
    return value if isinstance(value, Raw) else html.escape(str(value), quote=False)


def render(lang: str, key: str, values: dict[str, object]) -> str:
    fid = message_id(key)
    cat = catalogue(lang)
    if not cat.bundle.has_message(fid):
        # Tests fail on a missing text (tests/test_texts.py); in production the user gets
        # English rather than a raw key, and the operator one error per text.
        _report_once(lang, key, "missing")
        if lang == DEFAULT_LANGUAGE:
            return key
        cat = catalogue(DEFAULT_LANGUAGE)
        if not cat.bundle.has_message(fid):
            _report_once(DEFAULT_LANGUAGE, key, "missing")
            return key
    pattern = cat.bundle.get_message(fid).value
    if pattern is None:
        _report_once(lang, key, "has no value")
        return key
    selectors = cat.selectors.get(fid, frozenset())
    args = {k: _fluent_value(v, k in selectors) for k, v in values.items()}
    text, errors = cat.bundle.format_pattern(pattern, args)
    if errors:
        _report_once(lang, key, "; ".join(map(str, errors)))
    return str(text)


class Translator:
    """`t("buy.confirm", price="1.50")`: values are HTML-escaped unless wrapped in Raw."""

    __slots__ = ("lang",)

    def __init__(self, lang: str | None) -> None:
        self.lang = normalize_language(lang)

    def __call__(self, key: str, /, **values: object) -> str:
        return render(self.lang, key, values)


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)
