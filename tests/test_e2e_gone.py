"""The provider ended an activation on its side and no longer knows it (NO_ACTIVATION):
the bot never takes that for a refund. It looks the activation up, shows any code the
provider kept, and otherwise says that the outcome is unknown."""

from __future__ import annotations

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from storage.states import ActivationState
from tests.conftest import DEMO_KEY, Person
from tests.helpers import (
    BALANCE,
    PRICE,
    buy,
    code_messages,
    code_then_card,
    is_code,
    set_key,
    stored,
    within,
)
from tests.helpers_time import TimeTravel


async def test_cancel_of_an_activation_the_provider_completed_shows_its_code(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    """Issue item 4: "Cancelled, 9.90 refunded" although nothing was refunded."""
    chat = alice.chat
    await set_key(app, alice)
    provider.enable_history()
    clock = TimeTravel(app, provider)
    a = await buy(app, alice)
    # The poller has not looked since: the press is the first to meet NO_ACTIVATION.
    await app.poller.stop()
    provider.complete_by_provider(a.provider_id, code="556677")
    clock.advance(121)  # the cancel window is open

    answer = await chat.press("Cancel")
    assert not (answer.text or "").startswith("Cancelled")  # was "Cancelled. 22.00 ₽ refunded."
    assert "already completed" in (answer.text or "")
    assert "nothing was cancelled or refunded" in (answer.text or "")
    await chat.wait_for(is_code("556677"), timeout=5)
    card = chat.message(a.card_message_id or 0)
    assert card is not None
    assert "refunded" not in card.text
    assert "Completed" in card.text
    assert (await stored(app, a)).state == ActivationState.COMPLETED
    assert provider.balance(DEMO_KEY) == BALANCE - PRICE  # indeed nothing was refunded


async def test_cancel_with_no_way_to_look_it_up_tells_the_truth(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    """KoalaSMS as documented has no history: the bot can't know; it says so."""
    chat = alice.chat
    await set_key(app, alice)
    clock = TimeTravel(app, provider)
    a = await buy(app, alice)
    await app.poller.stop()
    provider.complete_by_provider(a.provider_id, code="556677")
    clock.advance(121)

    answer = await chat.press("Cancel")
    assert not (answer.text or "").startswith("Cancelled")
    assert "no longer knows" in (answer.text or "")
    assert "can't confirm a refund" in (answer.text or "")
    assert len(answer.text or "") <= 200
    card = chat.message(a.card_message_id or 0)
    assert card is not None
    assert "no refund confirmed" in card.text
    assert not any("refunded" in m.text and "Cancelled" in m.text for m in chat.bot_messages)
    assert (await stored(app, a)).state == ActivationState.UNKNOWN
    assert provider.calls("getHistory") == 1  # asked once; BAD_ACTION is remembered


async def test_the_poller_shows_the_code_of_an_activation_completed_on_the_provider_side(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    provider.enable_history()
    a = await buy(app, alice)
    provider.complete_by_provider(a.provider_id, code="424242")

    await chat.wait_for(is_code("424242"), timeout=within(app) + 2)
    notice = await chat.wait_for("completed on KoalaSMS's side", timeout=within(app))
    assert "Nothing was refunded" in notice.text
    assert len(code_messages(chat, "424242")) == 1
    assert (await stored(app, a)).state == ActivationState.COMPLETED


async def test_an_activation_gone_with_no_trace_is_reported_unknown_not_refunded(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    provider.enable_history()
    a = await buy(app, alice)
    provider.complete_by_provider(a.provider_id)  # no code on record anywhere

    notice = await chat.wait_for("no longer knows", timeout=within(app) + 2)
    assert "can't confirm a refund" in notice.text
    assert (await stored(app, a)).state == ActivationState.UNKNOWN
    assert not any("refunded" in m.text and "no code came" in m.text
                   for m in chat.bot_messages)


async def test_complete_after_the_provider_completed_still_shows_the_code_it_kept(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    chat = alice.chat
    await set_key(app, alice)
    provider.enable_history()
    a = await buy(app, alice)
    provider.deliver_sms(a.provider_id, "1111")
    await code_then_card(app, chat, "1111", timeout=within(app))
    await chat.press("Another code")
    await chat.wait_for("Waiting for another code")
    await app.poller.stop()  # the press, not the poller, meets NO_ACTIVATION
    provider.complete_by_provider(a.provider_id, code="2222")

    answer = await chat.press("Complete")
    assert answer.text == "Completed."
    await code_then_card(app, chat, "2222", timeout=5)
    assert (await stored(app, a)).state == ActivationState.COMPLETED
