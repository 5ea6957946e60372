"""A person using the playground page, in Playwright terms: act as Ann or Ben, open a chat,
type, press buttons, use the side panel. Shared by the browser test and the screenshots."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

TIMEOUT_MS = 20_000


class PlaygroundPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    async def open(self, url: str) -> None:
        await self.page.goto(url)
        await self.page.locator("#people .who").first.wait_for(timeout=TIMEOUT_MS)

    async def act_as(self, name: str) -> None:
        await self.page.click(f'#people [data-person="{name}"]')

    async def open_chat(self, title: str) -> None:
        await self.page.click(f'#chatlist [data-chat="{title}"]')
        await self.page.locator("#chat-title", has_text=title).wait_for(timeout=TIMEOUT_MS)

    async def send(self, text: str) -> None:
        await self.page.fill("#text", text)
        await self.page.press("#text", "Enter")

    def message(self, text: str) -> Locator:
        """The newest message in the open chat whose text contains `text`."""
        return self.page.locator("#messages .row", has_text=text).last

    async def wait_message(self, text: str) -> Locator:
        found = self.message(text)
        await found.wait_for(timeout=TIMEOUT_MS)
        return found

    async def count(self, text: str) -> int:
        return await self.page.locator("#messages .row", has_text=text).count()

    async def wait_another(self, text: str, seen: int) -> None:
        """Wait until more than `seen` messages in the open chat contain `text` (another
        menu like one already there)."""
        await self.page.locator("#messages .row", has_text=text).nth(seen).wait_for(
            timeout=TIMEOUT_MS)

    async def press(self, label: str) -> None:
        """Press the newest inline button containing `label` and wait until its spinner
        is gone (the bot answered the press)."""
        button = self.page.locator("#messages .kb:enabled", has_text=label).last
        await button.click(timeout=TIMEOUT_MS)
        await self.page.locator("#messages .kb.pressed").wait_for(state="detached",
                                                                   timeout=TIMEOUT_MS)

    async def send_demo_key(self) -> None:
        await self.page.click("[data-action=send-key]")

    async def deliver_sms(self, code: str = "", text: str = "") -> None:
        """Deliver an SMS to the newest running activation from the side panel."""
        card = self.page.locator("#activations .act:not(.final)").first
        await card.wait_for(timeout=TIMEOUT_MS)
        if code:
            await card.locator(".sms-code").fill(code)
        if text:
            await card.locator(".sms-text").fill(text)
        await card.locator("[data-action=deliver]").click()
