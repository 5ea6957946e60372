"""Screenshots of the playground for the README, taken from the page itself:

    python -m tools.screenshots            # writes docs/img/playground-*.png

It starts the playground in-process, plays the README's story in headless Chromium
(Debian's, through Playwright) and captures three moments. Run it again after changing
the page or the bot's texts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from bot.playground.run import playground
from bot.sandbox.playground import DEMO_KEY
from tools.browser import chromium, find_chromium
from tools.page import TIMEOUT_MS, PlaygroundPage

OUT = Path(__file__).resolve().parent.parent / "docs" / "img"
WIDTH, HEIGHT = 1400, 820


async def quiet(p: PlaygroundPage) -> None:
    """Let toasts fade and the page settle, so a shot shows the chat, not a notice."""
    await p.page.locator("#toast").wait_for(state="hidden", timeout=TIMEOUT_MS)
    await p.page.wait_for_timeout(300)


async def take(out: Path, chromium_path: str) -> list[Path]:
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with playground(0, database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'pg.db'}",
                              poll_interval=0.3) as pg, chromium(chromium_path) as browser:
            page = await browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            p = PlaygroundPage(page)
            await p.open(pg.url)

            async def shot(name: str) -> None:
                await quiet(p)
                path = out / f"playground-{name}.png"
                await page.screenshot(path=str(path))
                shots.append(path)

            # 1. Ann in private: the key sent from the side panel, /buy, a country menu.
            await page.click("#start")
            await p.wait_message("set your KoalaSMS API key")
            await p.send_demo_key()
            await p.wait_message("Key saved")
            await p.send("/buy")
            await p.wait_message("Choose a service")
            await p.press("Telegram")
            await p.wait_message("Choose a country")
            await shot("buy")

            # 2. Bought; an SMS delivered from the side panel; the code in the chat.
            await p.press("Any country")
            await p.press("Buy for")
            await p.wait_message("Waiting for the SMS")
            await p.deliver_sms("424242", "Your Telegram code: 424242. Don't give it to anyone.")
            await p.wait_message("Don't give it to anyone")
            await shot("code")

            # 3. The group: Ann links the key through /setkey's deep link, Ben buys there.
            await p.open_chat("Koala Team")
            await p.send("/setkey")
            await p.wait_message("Send the key in private")
            await page.locator("#messages .kb.url").last.click()
            await p.wait_message("Send me the API key for the group")
            await p.send(DEMO_KEY)
            await p.wait_message("saved")
            await p.act_as("Ben")
            await p.open_chat("Koala Team")
            await p.wait_message("linked a KoalaSMS account")
            await p.send("/buy")
            await p.wait_message("Choose a service")
            await p.press("WhatsApp")
            await p.wait_message("Choose a country")
            await p.press("Any country")
            await p.press("Buy for")
            await p.wait_message("Waiting for the SMS")
            await p.deliver_sms("318 204")
            await p.wait_message("318 204")
            await shot("group")
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    args = parser.parse_args(argv)
    path, why_not = find_chromium()
    if path is None:
        print(f"screenshots: {why_not}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for shot in asyncio.run(take(args.out, path)):
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
