"""The bot is killed (SIGKILL) while getNumberV2 hangs at the provider, which then
charges: after a restart the purchase is found, its card shown and its code delivered,
and nothing is bought twice. The bot runs as a real `python -m bot` process."""

from __future__ import annotations

import signal
from pathlib import Path

from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from tests.conftest import DEMO_KEY
from tests.test_e2e_buy import cards
from tests.test_restart import bot_process, code_messages, wait_until


async def test_purchase_cut_short_by_a_crash_is_adopted_after_restart(
        tmp_path: Path, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    user = tg.add_user(first_name="Alice", language_code="en")
    chat = tg.private_chat(user)
    # The provider holds the purchase, and charges after the bot is gone.
    provider.delay_answers(3.0, actions={"getNumberV2"})

    async with bot_process(tmp_path, provider, tg, "first") as first:
        await chat.send(f"/key {DEMO_KEY}")
        await chat.wait_for("100.00", timeout=60)
        await chat.send("/buy")
        await chat.wait_for("Choose a service", timeout=30)
        await chat.press("WhatsApp", timeout=30)
        await chat.wait_for("Choose a country", timeout=30)
        await chat.press("Russia", timeout=30)
        confirm = await chat.wait_for("Confirm the purchase", timeout=30)
        await chat.press("Buy for", timeout=30)
        await wait_until(lambda: provider.calls("getNumberV2") == 1, 30, "the purchase request",
                         tmp_path)
        first.send_signal(signal.SIGKILL)
        await first.wait()

    await wait_until(lambda: len(provider.activations) == 1, 30, "the provider's charge",
                     tmp_path)
    [bought] = provider.activations
    provider.deliver_sms(bought.id, "9753")  # while nobody is listening

    async with bot_process(tmp_path, provider, tg, "second"):
        await wait_until(lambda: any(bought.phone in m.text for m in cards(chat)), 60,
                         "the card of the bought number", tmp_path)
        await wait_until(lambda: code_messages(chat, "9753"), 60, "the code", tmp_path)
        menu = chat.message(confirm.message_id)
        await wait_until(lambda: menu is not None and "Bought" in menu.text, 30,
                         "'Bought' on the menu", tmp_path)

    assert len(cards(chat)) == 1
    assert len(code_messages(chat, "9753")) == 1
    assert provider.calls("getNumberV2") == 1
    assert provider.balance(DEMO_KEY) == 70.0
