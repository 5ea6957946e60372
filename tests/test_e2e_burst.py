"""Many codes at once: codes waiting for one chat go out together, and a chat's code never
waits behind its own card edit when the bot is at its limit.

The real bot polls the provider sandbox and talks to the Telegram emulator over HTTP. The
assertions are about order and counts (the emulator's own log, the database), never
durations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.app import App
from bot.pacing import CHAT, MemoryPacer
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, TelegramEmulator
from storage.repo import CodeRepo
from tests.helpers import code_messages, is_code, until, within
from tests.test_e2e_outbox import most_in_window, numbers, people

BURST = 10


def code_of(n: int) -> str:
    return f"{626000 + n}"


async def test_codes_waiting_for_one_chat_go_in_one_message_each_marked_once(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    alice, _ = await people(app, tg, provider)
    hers = await numbers(app, tg, alice.user, alice.chat, BURST)
    # Telegram holds the chat (429) until every code is recorded: they all wait for it.
    alice.chat.flood(retry_after=1, count=10**6)
    for n, a in enumerate(hers):
        provider.deliver_sms(a.provider_id, code_of(n))

    async def all_recorded() -> bool:
        async with app.db() as session:
            return len(await CodeRepo(session).undelivered()) == BURST

    await until(all_recorded, "every code recorded", within(app) + 30)
    alice.chat.flood(retry_after=0, count=0)

    await until(lambda: all(code_messages(alice.chat, code_of(n)) for n in range(BURST)),
                "every code in Alice's chat", within(app) + 60)
    for n in range(BURST):
        assert len(code_messages(alice.chat, code_of(n))) == 1  # each once
    messages = code_messages(alice.chat)
    assert len(messages) < BURST  # several codes shared a message
    merged = max(messages, key=lambda m: m.text.count("Code: "))
    assert merged.text.count("Code: ") > 1
    # Each code is labelled with its number, and has a copy button of its own.
    by_code = {code_of(n): a for n, a in enumerate(hers)}
    buttons = [row[0] for row in (merged.reply_markup or {})["inline_keyboard"]]
    copied = [b["copy_text"]["text"] for b in buttons]
    assert sorted(copied) == sorted(c for c in by_code if f"Code: {c}" in merged.text)
    for code in copied:
        assert by_code[code].phone in merged.text

    # Marked delivered exactly once each, with the message that carries it.
    async def none_undelivered() -> bool:
        async with app.db() as session:
            return await CodeRepo(session).undelivered() == []

    await until(none_undelivered, "every code marked delivered", within(app) + 30)
    async with app.db() as session:
        for n, a in enumerate(hers):
            rows = await CodeRepo(session).for_activation(a.id or 0)
            assert [r.code for r in rows] == [code_of(n)]
            carrier = alice.chat.message(rows[0].message_id or 0)
            assert carrier is not None
            assert f"Code: {code_of(n)}" in carrier.text
    # Every card shows its code, and the chat's pace was kept.
    for n, a in enumerate(hers):
        await until(shows(alice.chat, a.card_message_id, code_of(n)),
                    f"card {n} shows its code", within(app) + 60)
    assert most_in_window(alice.chat.sent_at(), 1.0) <= CHAT.most_in(1.0)


def shows(chat: EmuChat, message_id: int | None, code: str) -> Callable[[], bool]:
    """A check: the message (a card) shows the code."""
    def check() -> bool:
        message = chat.message(message_id or 0)
        return message is not None and code in message.text
    return check


class CodesElsewhere(MemoryPacer):
    """The bot's budget is taken by other chats' codes: a card edit or a notice gets no
    token until `free` is set; a code gets one as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.free = asyncio.Event()

    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        if not urgent:
            await self.free.wait()
        await super().acquire(chat_id, urgent=urgent)


async def test_a_code_does_not_wait_behind_its_chats_card_edit_at_the_bots_limit(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    alice, _ = await people(app, tg, provider)
    first, second = await numbers(app, tg, alice.user, alice.chat, 2)
    pacer = CodesElsewhere()
    app.manager.notifier.pacer = pacer
    app.manager.notifier.queues.pacer = pacer

    provider.deliver_sms(first.provider_id, "717171")
    await alice.chat.wait_for(is_code("717171"), timeout=within(app) + 30)
    # Alice's sender now waits for her first card's edit, which stands back for codes.
    provider.deliver_sms(second.provider_id, "727272")
    await alice.chat.wait_for(is_code("727272"), timeout=within(app) + 30)
    edits = [r for r in tg.requests
             if r.chat_id == alice.chat.id and r.method == "editMessageText"]
    assert edits == []  # the card edit stood back; her code did not wait for it

    pacer.free.set()  # the bot's budget frees up: the cards catch up
    for a, code in ((first, "717171"), (second, "727272")):
        await until(shows(alice.chat, a.card_message_id, code), f"the card shows {code}",
                    within(app) + 30)
