"""What makes `--sandbox` feel like the real service: codes arrive by themselves."""

from __future__ import annotations

import asyncio
import random

from bot.sandbox.provider import WAIT_CODE, WAIT_RETRY, ProviderSandbox


async def deliver_codes(provider: ProviderSandbox, *, after: float, every: float = 1.0) -> None:
    """An SMS reaches every number `after` seconds after it started waiting (bought, or
    another code asked for), so the whole flow can be tried without the control API."""
    waiting_since: dict[tuple[int, int], float] = {}
    rng = random.Random()
    while True:
        now = provider.now()
        for act in provider.activations:
            if act.status not in {WAIT_CODE, WAIT_RETRY}:
                continue
            # Keyed by how many SMS it has: asking for another code starts a new wait.
            since = waiting_since.setdefault((act.id, len(act.sms)), now)
            if now - since >= after:
                code = f"{rng.randrange(1_000_000):06d}"
                provider.deliver_sms(act.id, code,
                                     f"Your verification code is {code}. Do not share it.")
        await asyncio.sleep(every)
