"""What the card and the command menu show in the less common cases."""

from __future__ import annotations

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, Person
from tests.helpers import buy, set_key, stored, within


async def test_commands_are_published_in_english_and_russian(app: App,
                                                             tg: TelegramEmulator) -> None:
    await tg.wait_request("setMyCommands", count=4)
    english = tg.commands({"type": "all_private_chats"})
    russian = tg.commands({"type": "all_private_chats"}, "ru")
    names = [c["command"] for c in english]
    assert names == [c["command"] for c in russian]
    assert {"start", "help", "key", "balance", "buy", "active", "history", "settings",
            "cancel"} <= set(names)
    assert english[names.index("buy")]["description"] == "Buy a number"
    assert russian[names.index("buy")]["description"] == "Купить номер"


async def test_provider_asks_for_a_resend(app: App, alice: Person,
                                          provider: ProviderSandbox) -> None:
    # STATUS_WAIT_RESEND only comes from getStatus: this provider has neither the list
    # nor getStatusV2, so the bot falls back to it.
    provider.disable_action("getActiveActivations")
    provider.disable_action("getStatusV2")
    await set_key(app, alice)
    a = await buy(app, alice)
    provider.set_resend(a.provider_id)
    card = await alice.chat.wait_for("should re-send the SMS", timeout=within(app))
    assert card.message_id == a.card_message_id
    provider.deliver_sms(a.provider_id, "424242")
    await alice.chat.wait_for("Code: 424242", timeout=within(app))


async def test_provider_cancels_on_its_own(app: App, alice: Person,
                                           provider: ProviderSandbox) -> None:
    await set_key(app, alice)
    a = await buy(app, alice)
    provider.cancel_by_provider(a.provider_id)
    notice = await alice.chat.wait_for("was cancelled by the provider", timeout=within(app) + 1)
    assert notice.reply_to == a.card_message_id
    card = alice.chat.message(a.card_message_id or 0)
    assert card is not None
    assert "Cancelled by the provider" in card.text
    assert card.buttons == [["🛒 Buy again"]]
    assert (await stored(app, a)).state == ActivationState.PROVIDER_CANCELLED
    assert provider.balance(DEMO_KEY) == 100.0
