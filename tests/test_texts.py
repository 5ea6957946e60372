"""The Fluent texts: every language has every message with the same placeholders, every key
the code asks for exists, and rendering keeps values exactly as given (escaped, unformatted)."""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fluent.syntax import FluentParser
from fluent.syntax import ast as ftl

import bot.texts as texts
from bot.texts import LANGUAGES, Raw, Translator, build_catalogue, locale_files, message_key
from storage.states import ActivationState

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("bot", "handlers", "storage")


def _variables(node: object) -> Iterator[str]:
    if isinstance(node, ftl.VariableReference):
        yield node.id.name
    if isinstance(node, ftl.BaseNode):
        for value in vars(node).values():
            for child in value if isinstance(value, list) else [value]:
                yield from _variables(child)


def _messages(lang: str) -> dict[str, tuple[str, frozenset[str]]]:
    """key -> (file name, placeholders) of one language."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for name, text in locale_files(lang):
        for item in FluentParser().parse(text).body:
            if isinstance(item, ftl.Message):
                key = message_key(item.id.name)
                assert key not in found, f"{lang}: {key} defined in {found[key][0]} and {name}"
                found[key] = (name, frozenset(_variables(item)))
    return found


MESSAGES = {lang: _messages(lang) for lang in LANGUAGES}
ALL_KEYS = set().union(*MESSAGES.values())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_file_parses(lang: str) -> None:
    for name, text in locale_files(lang):
        junk = [item for item in FluentParser().parse(text).body if isinstance(item, ftl.Junk)]
        assert not junk, f"{lang}/{name}: {[j.content for j in junk]}"


def test_every_language_has_every_message_with_the_same_placeholders() -> None:
    problems = []
    for key in sorted(ALL_KEYS):
        seen = {lang: MESSAGES[lang].get(key) for lang in LANGUAGES}
        missing = [lang for lang, entry in seen.items() if entry is None]
        if missing:
            problems.append(f"{key}: missing in {missing}")
            continue
        files = {entry[0] for entry in seen.values() if entry}
        placeholders = {entry[1] for entry in seen.values() if entry}
        if len(files) > 1:
            problems.append(f"{key}: in different files {sorted(files)}")
        if len(placeholders) > 1:
            problems.append(f"{key}: placeholders differ {[sorted(p) for p in placeholders]}")
    assert not problems, "\n".join(problems)


def _code_files() -> Iterator[Path]:
    for folder in CODE_DIRS:
        yield from (ROOT / folder).rglob("*.py")


def _is_translation(call: ast.Call) -> bool:
    """t(...), ctx.t(...), self.t(...), label(t, ...): the calls that take a text key."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in ("t", "label")
    return isinstance(func, ast.Attribute) and func.attr == "t"


def _key_argument(call: ast.Call) -> ast.expr | None:
    func = call.func
    if isinstance(func, ast.Name) and func.id == "label":
        return call.args[1] if len(call.args) > 1 else None
    return call.args[0] if call.args else None


def _used_keys() -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Literal keys the code uses (key -> where), and f-string key prefixes (prefix, where)."""
    areas = {key.split(".")[0] for key in ALL_KEYS}
    key_shape = re.compile(rf"^(?:{'|'.join(sorted(areas))})\.[a-z0-9_]+(?:\.[a-z0-9_]+)*$")
    file_name = re.compile(r"\.(?:csv|json|py|ftl|txt|db)$")
    literal: dict[str, list[str]] = {}
    prefixes: list[tuple[str, str]] = []
    for path in _code_files():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # Any string shaped like a key counts: keys are also kept in tables and variables.
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and key_shape.match(node.value) and not file_name.search(node.value):
                literal.setdefault(node.value, []).append(f"{where}:{node.lineno}")
            if isinstance(node, ast.Call) and _is_translation(node):
                arg = _key_argument(node)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    literal.setdefault(arg.value, []).append(f"{where}:{node.lineno}")
                elif isinstance(arg, ast.JoinedStr) and arg.values \
                        and isinstance(arg.values[0], ast.Constant):
                    prefixes.append((str(arg.values[0].value), f"{where}:{node.lineno}"))
    return literal, prefixes


def test_every_key_the_code_uses_exists_in_every_language() -> None:
    literal, prefixes = _used_keys()
    assert len(literal) > 150  # the scan sees the handlers' calls
    problems = [f"{key} ({', '.join(where)}): missing in {lang}"
                for key, where in sorted(literal.items()) for lang in LANGUAGES
                if key not in MESSAGES[lang]]
    problems += [f"{prefix}… ({where}): no text starts so"
                 for prefix, where in prefixes if not any(k.startswith(prefix) for k in ALL_KEYS)]
    assert not problems, "\n".join(problems)


def test_every_activation_state_has_a_state_line() -> None:
    # cards.py builds the key as f"act.state.{state.value}", which the scan cannot follow.
    missing = [s.value for s in ActivationState if f"act.state.{s.value}" not in ALL_KEYS]
    assert not missing


def test_values_are_escaped_unisolated_and_not_reformatted() -> None:
    t = Translator("ru")
    assert t("start.balance", balance=1234567.25) == "💰 Баланс: 1234567.25"
    assert t("start.balance", balance=0.1 + 0.2) == f"💰 Баланс: {0.1 + 0.2}"
    assert t("common.provider_error", text="<b>&") == \
        "KoalaSMS ответил: <code>&lt;b&gt;&amp;</code>"
    assert t("common.provider_error", text=Raw("<i>x</i>")) == \
        "KoalaSMS ответил: <code><i>x</i></code>"
    assert "\u2068" not in t("buy.btn.country", flag="🇷🇺", name="Россия", price="1", count=3)


def test_a_count_used_as_a_selector_picks_the_russian_plural() -> None:
    cat = build_catalogue("ru", [("x.ftl", "x-n = { $count } { $count ->\n"
                                           "    [one] номер\n    [few] номера\n"
                                           "   *[many] номеров\n}\n")])
    fluent_id = "x-n"
    assert cat.selectors[fluent_id] == {"count"}
    outputs = []
    for n in (1, 3, 5, 21, 1234, 1235):
        pattern = cat.bundle.get_message(fluent_id).value
        assert pattern is not None
        text, errors = cat.bundle.format_pattern(
            pattern,
            {"count": texts._fluent_value(n, selector=True)})
        assert not errors
        outputs.append(text)
    assert outputs == ["1 номер", "3 номера", "5 номеров", "21 номер", "1234 номера",
                       "1235 номеров"]


def test_a_missing_text_falls_back_to_english_and_is_logged_once(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    english = build_catalogue("en", [("a.ftl", "only-english = Hello { $name }\n")])
    russian = build_catalogue("ru", [("a.ftl", "other = Привет\n")])
    monkeypatch.setattr(texts, "catalogue", {"en": english, "ru": russian}.__getitem__)
    monkeypatch.setattr(texts, "_reported", set())
    t = Translator("ru")
    with caplog.at_level(logging.ERROR, logger="bot.texts"):
        assert t("only.english", name="<A>") == "Hello &lt;A&gt;"
        assert t("only.english", name="B") == "Hello B"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "only.english" in errors[0].getMessage()
    assert "ru" in errors[0].getMessage()


def test_broken_files_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot parse"):
        build_catalogue("en", [("a.ftl", "good = fine\nbad = { $x\n")])
    with pytest.raises(ValueError, match="defined twice"):
        build_catalogue("en", [("a.ftl", "same = 1\n"), ("b.ftl", "same = 2\n")])
