"""The playground in a real headless browser (Debian's Chromium driven by Playwright): a
person opens the page, sets the demo key, buys a number through the menus, delivers an SMS
from the side panel, sees the code in the chat and presses Complete; then, in the group,
the admin links the key through /setkey's deep link and a member buys there the same way.

Skipped, with the reason, where Playwright or a Chromium executable is missing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.playground.run import Playground, playground
from bot.sandbox.playground import DEMO_KEY
from tools.browser import chromium, find_chromium
from tools.page import TIMEOUT_MS, PlaygroundPage

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM, WHY_NOT = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=WHY_NOT)


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Playground]:
    async with playground(0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'pg.db'}",
                          poll_interval=0.2) as running:
        yield running


@pytest.fixture
async def page(pg: Playground) -> AsyncIterator[Page]:
    assert CHROMIUM is not None
    from playwright.async_api import Error as PlaywrightError

    async with contextlib.AsyncExitStack() as stack:
        try:
            browser = await stack.enter_async_context(chromium(CHROMIUM))
        except PlaywrightError as exc:  # there, but cannot start here (libraries, sandbox)
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        opened = await context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield opened
        finally:
            await context.close()
        assert errors == []  # no script error in the page, ever


async def buy_and_get_code(p: PlaygroundPage, code: str) -> None:
    """/buy → Telegram → Any country → Buy; an SMS from the side panel; the code in the chat;
    Complete."""
    menus = await p.count("Choose a service")  # someone else's may be open here
    await p.send("/buy")
    await p.wait_another("Choose a service", menus)
    await p.press("Telegram")
    await p.wait_message("Choose a country")
    await p.press("Any country")
    await p.press("Buy for")
    await p.wait_message("Waiting for the SMS")
    await p.deliver_sms(code, f"Your verification code is {code}")
    arrived = await p.wait_message(f"Your verification code is {code}")
    await arrived.locator("code", has_text=code).first.wait_for(timeout=TIMEOUT_MS)
    await p.press("Complete")
    await p.page.locator("#toast", has_text="Completed").wait_for(timeout=TIMEOUT_MS)
    await p.wait_message("Completed")
    card = p.page.locator("#activations .act", has_text=code).first
    await card.locator(".pill", has_text="completed").wait_for(timeout=TIMEOUT_MS)


async def test_a_person_buys_in_private_then_a_member_buys_in_the_group(
        pg: Playground, page: Page) -> None:
    p = PlaygroundPage(page)
    await p.open(pg.url)
    assert "Simulation" in await page.inner_text(".banner")

    # Ann, in private: Start, the demo key from the side panel, a purchase.
    await page.click("#start")
    await p.wait_message("set your KoalaSMS API key")
    await p.send_demo_key()
    await p.wait_message("Key saved")
    # The message carrying the key was deleted by the bot, live.
    assert DEMO_KEY not in await page.inner_text("#messages")
    await buy_and_get_code(p, "424242")
    # Tapping a <code> copies it, and so does a copy button.
    await page.locator("#messages .row code", has_text="424242").last.click()
    await page.locator("#toast", has_text="Copied").wait_for(timeout=TIMEOUT_MS)
    assert await page.evaluate("navigator.clipboard.readText()") == "424242"
    await page.evaluate("navigator.clipboard.writeText('')")
    await page.locator("#messages .kb", has_text="Copy code").last.click()
    await page.locator("#toast", has_text="Copied").wait_for(timeout=TIMEOUT_MS)
    assert await page.evaluate("navigator.clipboard.readText()") == "424242"
    # The CSV export downloads.
    await p.send("/history")
    await p.press("CSV")
    async with page.expect_download(timeout=TIMEOUT_MS) as download:
        await page.locator("#messages a.doc").last.click()
    assert (await download.value).suggested_filename == "history.csv"

    # The group: Ann (admin) links the key through /setkey's deep link...
    await p.open_chat("Koala Team")
    await page.click("#menu")
    await page.locator('#commands [data-command="setkey"]').click()
    await p.wait_message("Send the key in private")
    await page.locator("#messages .kb.url", has_text="Send the key in private").last.click()
    await page.locator("#chat-title", has_text="KoalaBot").wait_for(timeout=TIMEOUT_MS)
    await p.wait_message("Send me the API key for the group")
    await page.click("[data-action=type-key]")
    await page.press("#text", "Enter")
    await p.wait_message("saved")
    await p.open_chat("Koala Team")
    await p.wait_message("linked a KoalaSMS account")

    await p.send("/buy")
    await p.wait_message("Choose a service")

    # ... and Ben, a member, buys in the group and gets his code there. Ann's menu is hers:
    # the bot's alert says so, in a dialog.
    await p.act_as("Ben")
    await p.open_chat("Koala Team")
    await p.press("Telegram")
    await page.locator("#modal:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    assert "Ann" in await page.inner_text("#modal-text")
    await page.click("#modal-ok")
    await page.click("#menu")
    assert await page.locator('#commands [data-command="setkey"]').count() == 0
    await page.click("#menu")
    await buy_and_get_code(p, "777111")
    assert "Bought by Ben" in await page.inner_text("#messages")
