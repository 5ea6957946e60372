"""Names and flags for the provider's service and country codes.

The code tables come from public sms-activate tables (shared/data); an unknown code is
shown as itself. Popular services get curated names, because the raw table has
"Whatsapp" and "facebook".
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from importlib import resources

from bot.texts import Translator

# The services most people buy, in the order the menu shows them.
POPULAR: tuple[tuple[str, str], ...] = (
    ("tg", "Telegram"),
    ("wa", "WhatsApp"),
    ("go", "Google / Gmail / YouTube"),
    ("ig", "Instagram"),
    ("fb", "Facebook"),
    ("ds", "Discord"),
    ("tw", "X (Twitter)"),
    ("dr", "OpenAI / ChatGPT"),
    ("mm", "Microsoft"),
    ("am", "Amazon"),
    ("vk", "VK"),
    ("ok", "Odnoklassniki"),
    ("mt", "Steam"),
    ("lf", "TikTok"),
    ("wb", "WeChat"),
    ("ub", "Uber"),
    ("vi", "Viber"),
    ("ya", "Yandex"),
    ("ma", "Mail.ru"),
    ("nf", "Netflix"),
    ("oi", "Tinder"),
    ("ts", "PayPal"),
    ("acz", "Claude"),
    ("ot", "Any other"),
)

# Russian names of the countries people pick most; others keep their English name.
COUNTRY_RU: dict[int, str] = {
    0: "Россия", 1: "Украина", 2: "Казахстан", 3: "Китай", 4: "Филиппины", 6: "Индонезия",
    7: "Малайзия", 8: "Кения", 10: "Вьетнам", 11: "Киргизия", 12: "США (виртуальные)",
    13: "Израиль", 14: "Гонконг", 15: "Польша", 16: "Великобритания", 19: "Нигерия",
    21: "Египет", 22: "Индия", 23: "Ирландия", 24: "Камбоджа", 29: "Сербия",
    31: "ЮАР", 32: "Румыния", 33: "Колумбия", 34: "Эстония", 35: "Азербайджан", 36: "Канада",
    37: "Марокко", 39: "Аргентина", 40: "Узбекистан", 43: "Германия", 44: "Литва",
    45: "Хорватия", 46: "Швеция", 48: "Нидерланды", 49: "Латвия", 50: "Австрия",
    51: "Беларусь", 52: "Таиланд", 53: "Саудовская Аравия", 54: "Мексика", 55: "Тайвань",
    56: "Испания", 58: "Алжир", 60: "Бангладеш", 62: "Турция", 63: "Чехия", 64: "Шри-Ланка",
    65: "Перу", 66: "Пакистан", 67: "Новая Зеландия", 73: "Бразилия", 77: "Кипр",
    78: "Франция", 82: "Бельгия", 83: "Болгария", 84: "Венгрия", 85: "Молдова",
    86: "Италия", 95: "ОАЭ", 117: "Португалия", 128: "Грузия", 129: "Греция",
    141: "Словакия", 143: "Таджикистан", 148: "Армения", 151: "Чили", 163: "Финляндия",
    172: "Дания", 173: "Швейцария", 174: "Норвегия", 175: "Австралия", 182: "Япония",
    187: "США", 190: "Южная Корея", 196: "Сингапур",
}


def _load(name: str) -> dict[str, str]:
    data = resources.files("bot").joinpath("data", name).read_text(encoding="utf-8")
    table = json.loads(data)
    assert isinstance(table, dict)
    return {str(k): str(v) for k, v in table.items()}


def _load_ru() -> dict[str, tuple[str, tuple[str, ...]]]:
    """services_ru.json: code -> {"name": Russian name, "aliases": spellings people type}."""
    data = resources.files("bot").joinpath("data", "services_ru.json").read_text(encoding="utf-8")
    table = json.loads(data)
    assert isinstance(table, dict)
    return {str(code): (str(entry["name"]), tuple(str(a) for a in entry.get("aliases", ())))
            for code, entry in table.items()}


def fold(text: str) -> str:
    """Text as search compares it: no case, no accents, ё = е (NFKD splits ё into е and
    a diaeresis, which goes with the other accents)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _rank(query: str, name: str) -> int | None:
    """How well a folded name matches a folded query (lower is better), None: not at all."""
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if any(word.startswith(query) for word in name.replace("/", " ").replace("(", " ").split()):
        return 2
    if query in name:
        return 3
    return None


def flag(iso: str | None) -> str:
    if not iso or len(iso) != 2 or not iso.isalpha():
        return "🏳"
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in iso.upper())


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    name: str


class Catalog:
    """Read-only lookups; built once at start-up and shared through the dispatcher."""

    def __init__(self) -> None:
        raw = _load("services.json")
        curated = dict(POPULAR)
        self._services = {code: curated.get(code, name) for code, name in raw.items()}
        self._services.update(curated)
        self._ru = _load_ru()
        # Every name a service is found by, in either language, folded once.
        self._search_terms: dict[str, tuple[str, ...]] = {}
        for code, name in self._services.items():
            ru_name, aliases = self._ru.get(code, ("", ()))
            terms = {fold(n) for n in (name, raw.get(code, ""), ru_name, *aliases) if n}
            self._search_terms[code] = tuple(terms)
        self._countries = {int(k): v for k, v in _load("countries.json").items()}
        self._iso = {int(k): v for k, v in _load("country_iso.json").items()}

    # --- services ------------------------------------------------------------------

    def service_name(self, code: str, lang: str = "en") -> str:
        if lang == "ru" and code in self._ru:
            return self._ru[code][0]
        return self._services.get(code, code)

    def russian_names(self) -> dict[str, str]:
        return {code: name for code, (name, _) in self._ru.items()}

    def popular(self) -> list[str]:
        return [code for code, _ in POPULAR]

    def all_services(self) -> list[str]:
        """Popular first, then the rest by name."""
        popular = self.popular()
        rest = sorted((c for c in self._services if c not in set(popular)),
                      key=lambda c: self._services[c].casefold())
        return popular + rest

    def search_services(self, query: str, limit: int = 50, lang: str = "en") -> list[str]:
        """Codes whose code, English or Russian name or a common spelling matches (case,
        accents and ё/е aside); exact and prefix matches first."""
        q = fold(" ".join(query.split()))
        if not q:
            return []
        scored: list[tuple[int, str, str]] = []
        for code, terms in self._search_terms.items():
            ranks = [r for term in terms if (r := _rank(q, term)) is not None]
            if code == q:
                ranks.append(0)
            if ranks:
                scored.append((min(ranks), fold(self.service_name(code, lang)), code))
        scored.sort()
        return [code for _, _, code in scored[:limit]]

    # --- countries -----------------------------------------------------------------

    def country_name(self, country: int | None, lang: str = "en") -> str:
        if country is None:
            return Translator(lang)("catalog.any_country")
        if lang == "ru" and country in COUNTRY_RU:
            return COUNTRY_RU[country]
        return self._countries.get(country, f"#{country}")

    def country_flag(self, country: int | None) -> str:
        if country is None:
            return "🌍"
        return flag(self._iso.get(country))

    def country_label(self, country: int | None, lang: str = "en") -> str:
        return f"{self.country_flag(country)} {self.country_name(country, lang)}"

    def country_matches(self, country: int, query: str) -> bool:
        q = query.strip().casefold()
        names = [self._countries.get(country, ""), COUNTRY_RU.get(country, ""),
                 self._iso.get(country, "")]
        return any(q in n.casefold() for n in names if n) or q == str(country)

    def known_countries(self) -> list[int]:
        return sorted(self._countries)

