"""Import arrows: which package may import which (read from every module with `ast`).

- storage imports nothing of bot or handlers;
- nothing under bot/ imports handlers, except bot/app.py (it wires the dispatcher);
- handlers import neither storage nor the KoalaSMS client (bot.koala): services do;
- the sandbox (bot/sandbox) is imported only by the entry point, the playground (the entry
  point's web page), tests and benchmarks; the playground only by the entry point and tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "bench", "tests")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: list[str]) -> set[str]:
    """Every module `source` imports (absolute names; relative imports resolved against
    `package`, the importing module's package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            found.add(prefix)
            # `from bot import sandbox` imports the module bot.sandbox.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def all_imports() -> dict[str, set[str]]:
    modules: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and "versions" in path.parts:
                continue  # Alembic revisions import only sqlalchemy/alembic
            modules[module_name(path)] = imports_of(path)
    return modules


IMPORTS = all_imports()


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def offenders(importer: str | None, forbidden: str, allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in IMPORTS.items()
        if importer is None or within(module, importer)
        if not any(within(module, a) for a in allowed)
        for name in names if within(name, forbidden))


def test_the_modules_are_found() -> None:
    assert {"bot.app", "bot.activations", "storage.repo", "handlers"} <= set(IMPORTS)


@pytest.mark.parametrize("forbidden", ["bot", "handlers"])
def test_storage_imports_nothing_of_bot_or_handlers(forbidden: str) -> None:
    assert offenders("storage", forbidden) == []


def test_bot_imports_handlers_only_where_the_dispatcher_is_wired() -> None:
    assert offenders("bot", "handlers", allowed=("bot.app",)) == []


@pytest.mark.parametrize("forbidden", ["storage", "bot.koala"])
def test_handlers_import_neither_storage_nor_the_provider_client(forbidden: str) -> None:
    assert offenders("handlers", forbidden) == []


def test_the_sandbox_is_imported_only_by_the_entry_point_tests_and_benchmarks() -> None:
    allowed = ("bot.__main__", "bot.sandbox", "bot.playground", "tests", "bench")
    assert offenders(None, "bot.sandbox", allowed=allowed) == []


def test_the_playground_is_imported_only_by_the_entry_point_and_tests() -> None:
    allowed = ("bot.__main__", "bot.playground", "tests")
    assert offenders(None, "bot.playground", allowed=allowed) == []


def test_the_reader_sees_every_way_of_importing() -> None:
    source = ("import bot.redact\nfrom handlers import callbacks\nfrom ..bot import sandbox\n"
              "def f() -> None:\n    from bot.sandbox import provider\n")
    names = imports_in(source, ["storage", "repos"])
    assert {"bot.redact", "handlers.callbacks", "storage.bot.sandbox",
            "bot.sandbox.provider"} <= names
    assert within("bot.sandbox.provider", "bot.sandbox")
    assert not within("bot.sandboxes", "bot.sandbox")
