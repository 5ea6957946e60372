"""The provider sandbox's call log, which the playground's side panel shows live: each
request's action, its key masked, and what it was answered."""

from __future__ import annotations

import aiohttp

from bot.sandbox.playground import DEMO_KEY
from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox, SandboxCall, mask_key


async def test_the_provider_logs_each_call_with_a_masked_key_and_its_outcome() -> None:
    sandbox = ProviderSandbox()
    sandbox.add_account(DEMO_KEY, balance=5.0)
    heard: list[SandboxCall] = []
    sandbox.call_listeners.append(heard.append)
    url = await sandbox.start()
    assert url.endswith(ENDPOINT_PATH)
    try:
        async with aiohttp.ClientSession() as session:
            for query in ({"action": "getBalance", "api_key": DEMO_KEY},
                          {"action": "getBalance", "api_key": "wrongKey12345"},
                          {"action": "getNumber", "api_key": DEMO_KEY, "service": "zz"}):
                async with session.get(url, params=query) as response:
                    await response.read()
            sandbox.inject_faults("http500", count=1)
            async with session.post(url, data={"action": "setStatus", "api_key": DEMO_KEY,
                                               "id": "1", "status": "8"}) as response:
                assert response.status == 502  # the first of "http500" is a 502
    finally:
        await sandbox.stop()
    assert [(c.action, c.key_hint, c.outcome) for c in sandbox.call_log] == [
        ("getBalance", "demo…6789", "ok"),
        ("getBalance", "wron…2345", "BAD_KEY"),
        ("getNumber", "demo…6789", "BAD_SERVICE"),
        ("setStatus", "demo…6789", "HTTP 502"),
    ]
    assert heard == sandbox.call_log
    assert mask_key("") == "(none)"
    assert mask_key("short") == "…rt"
