"""/healthz and /metrics, in polling mode (METRICS_PORT) and webhook mode, over real HTTP
on 127.0.0.1 with the real bot; /healthz says which part is down."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, build_app, close_app, running
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import DEMO_KEY, Person, make_settings
from tests.helpers import buy, is_code
from tests.test_backends import (  # noqa: F401  (pg_database: a fixture)
    REDIS_URL,
    needs_postgres,
    needs_redis,
    pg_database,
)
from tests.test_webhook import SECRET_TOKEN, free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def health(base: str) -> tuple[int, dict[str, object]]:
    status, body = await get(f"{base}/healthz")
    return status, json.loads(body)


async def wait_health(base: str, status: int, timeout: float = 20.0) -> dict[str, object]:
    """The poller's first tick or a check's time-out may take a moment on a busy machine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            got, report = await health(base)
        except aiohttp.ClientConnectionError:  # not listening yet: the bot is starting
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        if got == status or loop.time() > deadline:
            assert got == status, report
            return report
        await asyncio.sleep(0.2)


@pytest.fixture
async def metered(tmp_path: Path, provider: ProviderSandbox,
                  tg: TelegramEmulator) -> AsyncIterator[tuple[App, str]]:
    """The bot in polling mode with METRICS_PORT set."""
    port = free_port()
    settings = make_settings(tmp_path, provider, tg, METRICS_PORT=port)
    application = await build_app(settings, koala_timeout=3.0, koala_backoff=0.01,
                                  reconcile_delay=0.05)
    try:
        async with running(application, polling_timeout=1):
            yield application, f"http://127.0.0.1:{port}"
    finally:
        await close_app(application)


async def test_polling_mode_serves_health_and_metrics_that_follow_the_bot(
        metered: tuple[App, str], alice: Person, provider: ProviderSandbox) -> None:
    app, base = metered
    report = await wait_health(base, 200)
    assert report["checks"] == {"database": "ok", "provider": "ok", "poller": "ok",
                                "redis": "off"}

    status, text = await get(f"{base}/metrics")
    assert status == 200
    before = parse(text)
    assert value(before, "koalabot_codes_delivered_total") == 0
    assert value(before, "koalabot_activations", state="waiting") == 0

    await alice.chat.send(f"/key {DEMO_KEY}")
    await alice.chat.wait_for("100.00")
    a = await buy(app, alice)
    mid = parse((await get(f"{base}/metrics"))[1])
    assert value(mid, "koalabot_activations", state="waiting") == 1
    assert value(mid, "koalabot_provider_calls_total", action="getNumberV2", outcome="ok") == 1
    assert value(mid, "koalabot_updates_total", type="message") >= 1
    assert value(mid, "koalabot_handler_seconds_count", type="message") >= 1
    assert value(mid, "koalabot_poll_tick_seconds_count") >= 1

    provider.deliver_sms(a.provider_id, "48213")
    await alice.chat.wait_for(is_code("48213"), timeout=15)
    # The code is counted once its message is marked delivered, just after Telegram got it.
    for _ in range(200):
        after = parse((await get(f"{base}/metrics"))[1])
        if value(after, "koalabot_codes_delivered_total") >= 1:
            break
        await asyncio.sleep(0.05)
    assert value(after, "koalabot_codes_delivered_total") == 1
    assert value(after, "koalabot_code_delivery_seconds_count") == 1
    assert value(after, "koalabot_activations", state="received") == 1
    assert value(after, "koalabot_activations", state="waiting") == 0


async def test_telegram_429s_are_counted(metered: tuple[App, str], alice: Person,
                                         tg: TelegramEmulator) -> None:
    _, base = metered
    tg.flood(alice.chat, retry_after=1, count=1)
    await alice.chat.send("/start")
    await alice.chat.wait_for("KoalaSMS", timeout=15)
    samples = parse((await get(f"{base}/metrics"))[1])
    assert value(samples, "koalabot_telegram_429_total", method="SendMessage") == 1


async def test_healthz_reports_a_provider_that_is_down(
        metered: tuple[App, str], provider: ProviderSandbox) -> None:
    _, base = metered
    await wait_health(base, 200)
    await provider.stop()
    report = await wait_health(base, 503)
    checks = report["checks"]
    assert isinstance(checks, dict)
    assert checks["provider"] != "ok"
    assert checks["database"] == "ok"
    assert report["healthy"] is False


async def test_webhook_mode_serves_health_and_metrics_on_the_webhook_server(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator, alice: Person) -> None:
    from bot.app import run

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(tmp_path, provider, tg, WEBHOOK_URL=f"{base}/webhook",
                             WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=port,
                             WEBHOOK_SECRET=SECRET_TOKEN)
    task = asyncio.create_task(run(settings))
    try:
        await tg.wait_request("setWebhook", timeout=15)
        report = await wait_health(base, 200)
        assert report["checks"] == {"database": "ok", "provider": "ok", "poller": "ok",
                                    "redis": "off"}
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 0, "chat": alice.chat.to_api(),
            "from": alice.user.to_api(), "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        async with aiohttp.ClientSession() as http:
            posted = await http.post(f"{base}/webhook", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN})
            assert posted.status == 200
        await alice.chat.wait_for("KoalaSMS")
        status, text = await get(f"{base}/metrics")
        assert status == 200
        assert value(parse(text), "koalabot_updates_total", type="message") == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class TcpProxy:
    """Forwards 127.0.0.1:port to another port until stopped: a database server that can
    be made unreachable without stopping the shared one."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()


@needs_postgres
async def test_healthz_reports_an_unreachable_database(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator,
        pg_database: str) -> None:  # noqa: F811
    proxy = TcpProxy(5432)
    await proxy.start()
    port = free_port()
    url = pg_database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    settings = make_settings(tmp_path, provider, tg, DATABASE_URL=url, METRICS_PORT=port)
    application = await build_app(settings, koala_timeout=3.0)
    base = f"http://127.0.0.1:{port}"
    try:
        async with running(application, polling_timeout=1):
            await wait_health(base, 200)
            await proxy.stop()
            report = await wait_health(base, 503)
            checks = report["checks"]
            assert isinstance(checks, dict)
            assert checks["database"] != "ok"
            assert checks["provider"] == "ok"
    finally:
        await proxy.stop()
        with contextlib.suppress(Exception):
            await close_app(application)


@needs_redis
async def test_healthz_checks_redis_when_configured(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    port = free_port()
    settings = make_settings(tmp_path, provider, tg, REDIS_URL=REDIS_URL, METRICS_PORT=port)
    application = await build_app(settings, koala_timeout=3.0)
    try:
        async with running(application, polling_timeout=1):
            report = await wait_health(f"http://127.0.0.1:{port}", 200)
            checks = report["checks"]
            assert isinstance(checks, dict)
            assert checks["redis"] == "ok"
    finally:
        await close_app(application)
