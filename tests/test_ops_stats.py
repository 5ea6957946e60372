"""/stats answers the operators listed in ADMIN_IDS with the bot's numbers, and tells
anyone else no."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from bot.services.ops import percentile
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.helpers import buy, is_code


@pytest.fixture
async def admin(tg: TelegramEmulator) -> Person:
    user = tg.add_user(first_name="Olga", language_code="ru")
    return Person(user, tg.private_chat(user))


@pytest.fixture
async def ops_app(tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
                  admin: Person) -> AsyncIterator[App]:
    settings = make_settings(tmp_path, provider, tg, ADMIN_IDS=f"{admin.user.id},999")
    application = await build_app(settings, koala_timeout=3.0, koala_backoff=0.01,
                                  reconcile_delay=0.05)
    try:
        async with running(application, polling_timeout=1):
            yield application
    finally:
        await close_app(application)


async def test_stats_for_an_admin(ops_app: App, alice: Person, admin: Person,
                                  provider: ProviderSandbox) -> None:
    await alice.chat.send(f"/key {DEMO_KEY}")
    await alice.chat.wait_for("100.00")
    a = await buy(ops_app, alice)
    provider.deliver_sms(a.provider_id, "48213")
    await alice.chat.wait_for(is_code("48213"), timeout=15)
    await buy(ops_app, alice)  # a second one, still waiting

    await admin.chat.send("/stats")
    reply = await admin.chat.wait_for("Статистика")
    text = reply.text
    assert "Пользователей: 2" in text  # Alice and the operator
    assert "API-ключей в работе: 1" in text
    assert "Активаций в работе: 2" in text
    assert "Кодов доставлено сегодня (UTC): 1" in text
    assert "Ошибки провайдера: 0.0% (0 из" in text
    assert "p50 " in text
    assert "(последние кодов: 1," in text
    assert DEMO_KEY not in text


async def test_stats_refused_to_others(ops_app: App, alice: Person) -> None:
    await alice.chat.send("/stats")
    reply = await alice.chat.wait_for("operators only")
    assert "Users" not in reply.text
    await alice.chat.wait_idle()
    assert len(alice.chat.bot_messages) == 1


async def test_no_admins_by_default(app: App, alice: Person) -> None:
    assert not app.settings.ADMIN_IDS
    await alice.chat.send("/stats")
    await alice.chat.wait_for("operators only")


def test_percentile_is_an_observed_value() -> None:
    assert percentile([], 0.5) is None
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0
