"""The playground's web side without a browser: the page, its WebSocket events (messages,
edits, deletions, callback answers, menus, the side panel) and the side panel's actions,
with the real bot behind it. A page is a WebSocket client here."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.playground.run import Playground, playground
from bot.sandbox.playground import DEMO_KEY

ROOT = Path(__file__).resolve().parent.parent
JSON = dict[str, Any]
WAIT = 20.0


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Playground]:
    async with playground(0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'pg.db'}",
                          poll_interval=0.2) as running:
        yield running


class Page:
    """One open page: what it was sent, and a way to act."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[JSON] = []
        self._seen = 0
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.events.append(msg.json())
                self._changed.set()

    async def close(self) -> None:
        await self.ws.close()
        await self._reader  # ends with the socket

    async def latest(self, kind: str, check: Callable[[JSON], bool], what: str) -> JSON:
        """Wait until the newest `kind` state the page has ("side", "menus"; the hello
        carries the first of each) passes `check`; that state."""
        def newest() -> JSON:
            for event in reversed(self.events):
                if event["type"] in (kind, "hello"):
                    return dict(event[kind])
            raise AssertionError("no hello")

        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while not check(newest()):
            if loop.time() > deadline:
                raise AssertionError(f"the page's {kind} never got {what}: {newest()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
        return newest()

    @property
    def hello(self) -> JSON:
        return self.events[0]

    def ids(self) -> tuple[int, int, int, int]:
        """(Ann, Ben, Ann's private chat, the group)."""
        people = {p["name"]: p["id"] for p in self.hello["people"]}
        group = next(c["id"] for c in self.hello["chats"] if c["type"] == "supergroup")
        return people["Ann"], people["Ben"], people["Ann"], group

    async def act(self, **action: Any) -> None:
        await self.ws.send_json(action)

    async def wait(self, check: Callable[[JSON], bool], what: str, *,
                   anywhere: bool = False) -> JSON:
        """The first event since the last wait (`anywhere`: since the page opened) that
        passes `check`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            for index in range(0 if anywhere else self._seen, len(self.events)):
                if check(self.events[index]):
                    self._seen = index + 1
                    return self.events[index]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no event {what} within {WAIT}s; got {self.events[-5:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def bot_says(self, text: str, chat_id: int | None = None) -> JSON:
        def check(ev: JSON) -> bool:
            m = ev.get("message") or {}
            return (ev["type"] == "message" and m["from"]["bot"] and text in m["text"]
                    and (chat_id is None or m["chat_id"] == chat_id))
        event = await self.wait(check, f"with a bot message containing {text!r}")
        return dict(event["message"])

    async def press(self, message: JSON, label: str, user_id: int) -> JSON:
        button = next(b for row in message["buttons"] for b in row if label in b["text"])
        await self.act(type="press", chat_id=message["chat_id"], user_id=user_id,
                       message_id=message["id"], data=button["data"])
        return await self.wait(lambda ev: ev["type"] == "answer"
                               and ev["message_id"] == message["id"], f"answering {label!r}")


@pytest.fixture
async def page(pg: Playground) -> AsyncIterator[Page]:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{pg.url}ws")
        opened = Page(ws)
        await opened.wait(lambda ev: ev["type"] == "hello", "hello")
        try:
            yield opened
        finally:
            await opened.close()


async def set_key_and_buy(page: Page, chat_id: int, user_id: int) -> JSON:
    """The user buys a Telegram number in `chat_id` through the menus; the card."""
    await page.act(type="send", chat_id=chat_id, user_id=user_id, text="/buy")
    menu = await page.bot_says("Choose a service", chat_id)
    await page.press(menu, "Telegram", user_id)
    countries = await page.bot_says("Choose a country", chat_id)
    await page.press(countries, "Any country", user_id)
    confirm = await page.wait(lambda ev: ev["type"] == "message" and any(
        "Buy for" in b["text"] for row in ev["message"]["buttons"] for b in row), "Buy button")
    await page.press(confirm["message"], "Buy for", user_id)
    return await page.bot_says("Waiting for the SMS", chat_id)


# -- the page -------------------------------------------------------------------------
async def test_the_page_is_served_on_loopback_and_says_it_is_a_simulation(
        pg: Playground) -> None:
    assert pg.url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        async with session.get(pg.url) as response:
            assert response.status == 200
            page = await response.text()
            assert "Simulation" in page
            assert "no real money" in page
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        for name in ("app.js", "state.js", "dom.js", "text.js", "side.js", "style.css",
                     "favicon.svg"):
            async with session.get(f"{pg.url}static/{name}") as response:
                assert response.status == 200, name


async def test_a_new_page_gets_the_people_the_chats_and_the_command_menus(
        page: Page) -> None:
    hello = page.hello
    assert [p["name"] for p in hello["people"]] == ["Ann", "Ben"]
    group = next(c for c in hello["chats"] if c["type"] == "supergroup")
    roles = {m["name"]: m["admin"] for m in group["members"]}
    assert roles == {"Ann": True, "Ben": False}
    ann, ben, _, gid = page.ids()
    # The bot introduces itself in the group it was added to.
    await page.bot_says("/setkey", gid)
    menus = await page.latest("menus", lambda m: bool(m[f"{gid}:{ann}"]), "the group's menu")
    admin = {c["command"] for c in menus[f"{gid}:{ann}"]}
    member = {c["command"] for c in menus[f"{gid}:{ben}"]}
    private = {c["command"] for c in menus[f"{ann}:{ann}"]}
    assert {"setkey", "buy"} <= admin
    assert "buy" in member
    assert "setkey" not in member
    assert {"key", "buy", "start"} <= private


# -- chatting -------------------------------------------------------------------------
async def test_a_key_typed_in_the_page_is_deleted_live_and_never_shown_again(
        page: Page) -> None:
    ann, _, chat, _ = page.ids()
    await page.act(type="send", chat_id=chat, user_id=ann, text=f"/key {DEMO_KEY}")
    sent = await page.wait(lambda ev: ev["type"] == "message"
                           and ev["message"]["from"]["id"] == ann, "with Ann's message")
    await page.wait(lambda ev: ev == {"type": "delete", "chat_id": chat,
                                      "id": sent["message"]["id"]}, "deleting the key")
    saved = await page.bot_says("Key saved", chat)
    assert DEMO_KEY not in saved["text"]
    assert any(e["type"] == "code" for e in saved["entities"])  # the bot's HTML, as entities


async def test_a_purchase_through_the_menus_with_edits_answers_and_replies(
        page: Page) -> None:
    ann, _, chat, _ = page.ids()
    await page.act(type="send", chat_id=chat, user_id=ann, text=f"/key {DEMO_KEY}")
    await page.bot_says("Key saved", chat)
    await page.act(type="send", chat_id=chat, user_id=ann, text="/buy")
    menu = await page.bot_says("Choose a service", chat)
    answer = await page.press(menu, "Telegram", ann)
    assert answer["show_alert"] is False
    # The menu message is edited in place: the same id comes again.
    countries = await page.bot_says("Choose a country", chat)
    assert countries["id"] == menu["id"]
    assert countries["edited"] is True
    await page.press(countries, "Any country", ann)
    confirm = await page.wait(lambda ev: ev["type"] == "message" and any(
        "Buy for" in b["text"] for row in ev["message"]["buttons"] for b in row), "confirm")
    await page.press(confirm["message"], "Buy for", ann)
    card = await page.bot_says("Waiting for the SMS", chat)
    side = await page.latest("side", lambda s: bool(s["activations"]), "the activation")
    act = side["activations"][0]
    assert act["status"] == "wait_code"
    assert act["phone"].lstrip("+") in card["text"].replace("+", "")
    # The side panel delivers an SMS; the code reaches the chat as a reply to the card.
    await page.act(type="sms", activation_id=act["id"], code="135790",
                   text="Your code: 135790. Do not share it.")
    await page.wait(lambda ev: ev["type"] == "toast" and "135790" in ev["text"], "toast")
    code = await page.bot_says("135790", chat)
    while "Do not share" not in code["text"]:  # the card's edit may come first
        code = await page.bot_says("135790", chat)
    assert code["reply"]["id"] == card["id"]
    copy = [b for row in code["buttons"] for b in row if b["kind"] == "copy"]
    assert copy
    assert copy[0]["copy"] == "135790"


async def test_the_csv_export_is_a_downloadable_file(pg: Playground, page: Page) -> None:
    ann, _, chat, _ = page.ids()
    await page.act(type="send", chat_id=chat, user_id=ann, text=f"/key {DEMO_KEY}")
    await page.bot_says("Key saved", chat)
    await set_key_and_buy(page, chat, ann)
    await page.act(type="send", chat_id=chat, user_id=ann, text="/history")
    history = await page.wait(lambda ev: ev["type"] == "message" and any(
        "CSV" in b["text"] for row in ev["message"]["buttons"] for b in row), "history")
    await page.press(history["message"], "CSV", ann)
    # (The file may come before the press's answer.)
    doc = await page.wait(lambda ev: ev["type"] == "message" and "document" in ev["message"],
                          "with the CSV", anywhere=True)
    url = doc["message"]["document"]["url"]
    async with aiohttp.ClientSession() as session, session.get(
            pg.url.rstrip("/") + url) as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        body = await response.text()
    assert body.count("\n") >= 2  # a header and the activation
    async with aiohttp.ClientSession() as session, session.get(
            f"{pg.url}file/nope") as response:
        assert response.status == 404


# -- the group and the deep link ----------------------------------------------------------
async def test_setkey_deep_link_opens_the_admins_private_chat_then_a_member_buys(
        page: Page) -> None:
    ann, ben, _, gid = page.ids()
    await page.act(type="send", chat_id=gid, user_id=ann, text="/setkey")
    prompt = await page.wait(lambda ev: ev["type"] == "message" and any(
        b["kind"] == "url" for row in ev["message"]["buttons"] for b in row), "the link")
    url = next(b["url"] for row in prompt["message"]["buttons"] for b in row
               if b["kind"] == "url")
    assert re.match(r"https://t\.me/\w+\?start=", url)
    await page.act(type="open_link", user_id=ann, url=url)
    opened = await page.wait(lambda ev: ev["type"] == "open_chat", "opening the chat")
    assert opened["chat_id"] == ann
    await page.bot_says("Send me the API key for the group", ann)
    await page.act(type="send", chat_id=ann, user_id=ann, text=DEMO_KEY)
    await page.bot_says("linked a KoalaSMS account", gid)
    card = await set_key_and_buy(page, gid, ben)
    assert card["chat_id"] == gid
    assert "Bought by Ben" in card["text"]


# -- the side panel ---------------------------------------------------------------------------
async def test_faults_are_injected_shown_and_cleared_and_calls_never_show_a_key(
        page: Page) -> None:
    ann, _, chat, _ = page.ids()
    await page.act(type="fault", kind="5xx")
    side = await page.latest("side", lambda s: bool(s["faults"]), "the fault")
    assert side["faults"] == ["5xx"]
    await page.act(type="send", chat_id=chat, user_id=ann, text=f"/key {DEMO_KEY}")
    failed = await page.wait(lambda ev: ev["type"] == "call"
                             and ev["call"]["outcome"].startswith("HTTP 5"), "a 5xx call")
    assert failed["call"]["level"] == "failed"
    assert failed["call"]["key_hint"] == "demo…6789"
    await page.act(type="clear_faults")
    await page.latest("side", lambda s: not s["faults"], "no fault")
    await page.act(type="fault", kind="no_numbers")
    await page.act(type="send", chat_id=chat, user_id=ann, text="/balance")
    ok = await page.wait(lambda ev: ev["type"] == "call" and ev["call"]["level"] == "ok",
                         "a call answered normally")
    assert ok["call"]["action"] == "getBalance"
    for event in page.events:  # (Ann's own message carried it until the bot deleted it)
        if event["type"] == "call" or event.get("message", {}).get("from", {}).get("bot"):
            assert DEMO_KEY not in str(event)
    # The demo account is shown with its key, to be sent to the bot; balances move.
    account = page.hello["side"]["accounts"][0]
    assert account["key"] == DEMO_KEY
    await page.act(type="topup", key_hint=account["key_hint"])
    topped = await page.latest("side", lambda s: s["accounts"][0]["balance"] >= 200, "top-up")
    assert topped["accounts"][0]["balance"] == account["balance"] + 100


async def test_wrong_actions_are_refused_with_a_reason(pg: Playground, page: Page) -> None:
    _, ben, chat, _ = page.ids()
    await page.act(type="send", chat_id=chat, user_id=ben, text="hi")
    refused = await page.wait(lambda ev: ev["type"] == "error", "an error")
    assert "not in this chat" in refused["text"]
    await page.act(type="fly")
    assert "unknown action" in (await page.wait(lambda ev: ev["type"] == "error", "e"))["text"]
    await page.act(type="sms", activation_id=1, code="1")
    assert "no such activation" in (await page.wait(lambda ev: ev["type"] == "error",
                                                    "e"))["text"]
    await page.ws.send_str("not json")
    await page.wait(lambda ev: ev["type"] == "error", "not JSON")
    # Another web site open in the same browser cannot drive the playground.
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(f"{pg.url}ws", origin="http://evil.example")


# -- the command --------------------------------------------------------------------------------
async def test_python_m_bot_playground_needs_no_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in {"BOT_TOKEN", "SECRET_KEY", "DATABASE_URL", "KOALA_API_URL",
                        "TELEGRAM_API_URL", "REDIS_URL"}}
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--playground", "--port", "0", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        assert process.stdout is not None
        seen: list[str] = []
        url = None
        while url is None:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            if not line:
                raise AssertionError("the playground exited:\n" + "".join(seen))
            seen.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else None
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            assert "Simulation" in await response.text()
        assert os.listdir(tmp_path) == []  # its database is in a temporary directory
    finally:
        process.terminate()
        await process.wait()

