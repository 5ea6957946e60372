"""Debian's Chromium, driven by Playwright for Python (no browser download: Playwright is
told the executable's path). Used by the playground's browser test and its screenshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")


def find_chromium() -> tuple[str | None, str]:
    """(path, "") when a Chromium and Playwright are here, else (None, why not)."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return None, "Playwright for Python is not installed (pip install playwright)"
    wanted = os.environ.get("CHROMIUM_PATH")
    paths = [wanted] if wanted else [*CANDIDATES, shutil.which("chromium") or ""]
    for path in paths:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path, ""
    return None, ("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH); "
                  f"looked at {', '.join(p for p in paths if p)}")


@asynccontextmanager
async def chromium(path: str) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = await pw.chromium.launch(
            executable_path=path, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield browser
        finally:
            await browser.close()
