"""Each chat has its own paced outbox: a chat with many codes waiting, or a group under
Telegram's flood control, delays only itself, and the bot keeps Telegram's limits.

The real bot polls the provider sandbox and talks to the Telegram emulator over HTTP.
The stalled chat has more numbers than the poller has work slots (MAX_PARALLEL_WORK), so
a bot whose work waited for a chat's turn would have nothing left for anybody else. The
assertions are about order and counts (the emulator's own request log), never durations.
"""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.pacing import CHAT, GROUP_MESSAGES
from bot.poller import MAX_PARALLEL_WORK
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuUser, TelegramEmulator
from storage.models import Activation
from storage.repo import AccountRepo, ActivationRepo, CodeRepo
from tests.conftest import Person
from tests.helpers import BOB_KEY, code_messages, is_code, set_key, until, within

STALLED = MAX_PARALLEL_WORK + 4
ALICE_KEY = "aliceKEY0123456789abcdefABCDEF"


async def numbers(app: App, tg: TelegramEmulator, buyer: EmuUser, chat: EmuChat,
                  n: int) -> list[Activation]:
    """n running numbers bought by `buyer` for `chat`, each with its card already in the
    chat (posting that many cards first, paced, is not what these tests are about)."""
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(buyer.id)
    assert account is not None
    bought = []
    for _ in range(n):
        a = await app.manager.purchase(account=account, chat_id=chat.id, buyer_id=buyer.id,
                                       service="tg", country=0, max_price=None)
        card = tg._new_message(chat, tg._bot_user(), from_bot=True,
                               text=f"card of {a.phone}")
        async with app.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            assert fresh is not None
            fresh.card_message_id = card.message_id
            bought.append(await repo.save(fresh))
    return bought


async def people(app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> tuple[
        Person, Person]:
    provider.set_offer("tg", 0, 22.0, 1000)
    provider.add_account(ALICE_KEY, balance=100000.0)
    provider.add_account(BOB_KEY, balance=100000.0)
    alice_user = tg.add_user(first_name="Alice", language_code="en")
    bob_user = tg.add_user(first_name="Bob", language_code="en")
    alice = Person(alice_user, tg.private_chat(alice_user))
    bob = Person(bob_user, tg.private_chat(bob_user))
    await set_key(app, alice, ALICE_KEY)
    await set_key(app, bob, BOB_KEY)
    return alice, bob




def most_in_window(times: list[float], window: float) -> int:
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t - start <= window))
    return best


def code_of(n: int) -> str:
    return f"{515000 + n}"


def codes_in(chat: EmuChat) -> set[str]:
    """The test's codes found in the chat's code messages."""
    return {code_of(n) for n in range(STALLED) if code_messages(chat, code_of(n))}


async def test_a_chat_with_many_codes_waiting_does_not_delay_another_users_code(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    alice, bob = await people(app, tg, provider)
    # Telegram's own limit on the chat: a bot sending faster is answered 429.
    alice.chat.enforce_rate(CHAT.most_in(1.0) + 1, window=1.0, retry_after=30)
    hers = await numbers(app, tg, alice.user, alice.chat, STALLED)
    his = (await numbers(app, tg, bob.user, bob.chat, 1))[0]

    for n, a in enumerate(hers):
        provider.deliver_sms(a.provider_id, code_of(n))
    await alice.chat.wait_for(lambda m: m.text.startswith("🔑"), timeout=within(app) + 30)
    provider.deliver_sms(his.provider_id, "909090")
    await bob.chat.wait_for(is_code("909090"), timeout=within(app) + 60)
    # Bob's code went out while Alice's were still going, one a second, to her chat.
    assert len(codes_in(alice.chat)) < STALLED

    # Codes that waited together may share a message (bot/outbox.py): counted by code.
    await until(lambda: len(codes_in(alice.chat)) == STALLED, "every code of Alice's", 300)
    for n in range(STALLED):
        assert len(code_messages(alice.chat, code_of(n))) == 1  # each once
    sent = alice.chat.sent_at()
    assert most_in_window(sent, 1.0) <= CHAT.most_in(1.0)
    refused = [r for r in tg.requests if r.chat_id == alice.chat.id and r.status == 429]
    assert refused == []  # the bot kept the pace itself: Telegram never had to say 429


async def test_a_group_under_flood_control_delays_nobody_else_and_loses_no_code(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    alice, bob = await people(app, tg, provider)
    group = tg.add_group("Team", admins=[alice.user])
    group.enforce_group_limit(per_minute=20)  # as Telegram does
    group.flood(retry_after=3, count=10**6)  # and every send or edit answers 429 for now
    theirs = await numbers(app, tg, alice.user, group, STALLED)
    his = (await numbers(app, tg, bob.user, bob.chat, 1))[0]

    for n, a in enumerate(theirs):
        provider.deliver_sms(a.provider_id, code_of(n))
    await until(lambda: any(r.chat_id == group.id and r.status == 429 for r in tg.requests),
                "the group's first 429", within(app) + 30)
    provider.deliver_sms(his.provider_id, "909090")
    await bob.chat.wait_for(is_code("909090"), timeout=within(app) + 60)
    # While the group was still refusing everything: none of its codes had gone out.
    assert not [m for m in group.bot_messages if "Code: 515" in m.text]

    group.flood(retry_after=0, count=0)  # flood control ends

    async def undelivered() -> int:
        async with app.db() as session:
            return len(await CodeRepo(session).undelivered())

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 300
    while await undelivered() > 0:
        assert loop.time() < deadline, "the group's codes were not all delivered"
        await asyncio.sleep(0.2)
    # Every code is in the group (a message of its own, or its card in a busy group).
    for n in range(STALLED):
        assert any(code_of(n) in m.text for m in group.bot_messages), code_of(n)
    messages = group.sent_at(("sendMessage", "sendDocument"))
    assert most_in_window(messages, 60.0) <= GROUP_MESSAGES.most_in(60.0) == 20
    assert most_in_window(group.sent_at(), 1.0) <= CHAT.most_in(1.0)
