"""Buying in a group, as its members would: the group's account pays, a menu belongs to
whoever opened it, the card and codes land in the group (in the buyer's forum topic) and
name the buyer, only the buyer and the admins act on the card, the group's rules are
asked before any money moves, and a member's private account never mixes with it.

The group's key is linked through the storage layer (the deep-link flow is the groups
area's own test)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.app import App
from bot.pacing import GROUP_MESSAGES
from bot.sandbox.provider import CANCELLED, ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, EmuUser, TelegramEmulator
from bot.services.group_rules import GroupRules, Reservation, RuleRefusal
from storage.repo import AccountRepo, CodeRepo
from tests.conftest import DEMO_KEY
from tests.helpers import is_code

GROUP_KEY = "groupKEY0123456789abcdefABCDEF"


@dataclass
class Team:
    chat: EmuChat
    creator: EmuUser
    admin: EmuUser
    alice: EmuUser
    bob: EmuUser
    topic: int | None


async def link_group_key(app: App, group: EmuChat, admin: EmuUser,
                         key: str = GROUP_KEY) -> None:
    async with app.db() as session:
        await AccountRepo(session, app.keybox).set_key(group.id, key, admin.id)


def make_team(tg: TelegramEmulator, *, forum: bool) -> Team:
    creator = tg.add_user(first_name="Carol", language_code="en")
    admin = tg.add_user(first_name="Dave", language_code="en")
    alice = tg.add_user(first_name="Alice", language_code="en")
    bob = tg.add_user(first_name="Bob", language_code="en")
    chat = tg.add_group("Team", admins=[creator, admin], members=[alice, bob], forum=forum)
    topic = chat.topic("Orders", by=creator) if forum else None
    return Team(chat, creator, admin, alice, bob, topic)


@pytest.fixture
async def team(app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> Team:
    provider.add_account(GROUP_KEY, balance=50.0)
    t = make_team(tg, forum=True)
    await link_group_key(app, t.chat, t.creator)
    return t


@pytest.fixture
async def plain_team(app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> Team:
    provider.add_account(GROUP_KEY, balance=50.0)
    t = make_team(tg, forum=False)
    await link_group_key(app, t.chat, t.creator)
    return t


def is_card(m: EmuMessage) -> bool:
    return "Number:" in m.text and m.find_button("Cancel") is not None


async def open_confirm(team: Team, user: EmuUser) -> EmuMessage:
    chat, topic = team.chat, team.topic
    await chat.send("/buy", user=user, thread=topic)
    menu = await chat.wait_for("Choose a service", thread=topic, timeout=15)
    await chat.press("Telegram", message=menu, user=user, timeout=15)
    countries = await chat.wait_for("Choose a country", thread=topic, timeout=15)
    await chat.press("Russia", message=countries, user=user, timeout=15)
    screen = await chat.wait_for(lambda m: "Confirm the purchase" in m.text
                                 or "Several suppliers" in m.text, thread=topic, timeout=15)
    if "Several suppliers" in screen.text:
        await chat.press("Cheapest", message=screen, user=user, timeout=15)
    return await chat.wait_for("Confirm the purchase", thread=topic, timeout=15)


async def buy_in_group(team: Team, user: EmuUser) -> EmuMessage:
    confirm = await open_confirm(team, user)
    await team.chat.press("Buy for", message=confirm, user=user, timeout=15)
    return await team.chat.wait_for(is_card, thread=team.topic, timeout=15)


async def buy_in_private(private: EmuChat) -> EmuMessage:
    """A Telegram number in Russia bought through the menus of a private chat."""
    await private.send("/buy")
    await private.wait_for("Choose a service", timeout=15)
    await private.press("Telegram", timeout=15)
    await private.wait_for("Choose a country", timeout=15)
    await private.press("Russia", timeout=15)
    screen = await private.wait_for(lambda m: "Confirm the purchase" in m.text
                                    or "Several suppliers" in m.text, timeout=15)
    if "Several suppliers" in screen.text:
        await private.press("Cheapest", timeout=15)
        await private.wait_for("Confirm the purchase", timeout=15)
    await private.press("Buy for", timeout=15)
    return await private.wait_for(is_card, timeout=15)


async def test_member_buys_with_group_key_card_and_code_in_topic(
        app: App, team: Team, provider: ProviderSandbox) -> None:
    card = await buy_in_group(team, team.alice)
    assert card.thread_id == team.topic
    assert "Bought by Alice" in card.text
    assert provider.balance(GROUP_KEY) < 50.0  # the group's account paid
    assert provider.balance(DEMO_KEY) == 100.0

    bought = [a for a in provider.activations if a.api_key == GROUP_KEY]
    assert len(bought) == 1
    provider.deliver_sms(bought[0].id, "48213")
    code = await team.chat.wait_for(is_code("48213"), thread=team.topic, timeout=15)
    assert code.thread_id == team.topic


async def test_other_member_cannot_press_the_buyers_menu(app: App, team: Team) -> None:
    chat = team.chat
    await chat.send("/buy", user=team.alice, thread=team.topic)
    menu = await chat.wait_for("Choose a service", thread=team.topic, timeout=15)
    before = menu.text
    answer = await chat.press("Telegram", message=menu, user=team.bob, timeout=15)
    assert answer.text == "This is Alice's menu. Send /buy to open your own."
    assert answer.show_alert
    assert chat.message(menu.message_id).text == before  # type: ignore[union-attr]


async def test_other_member_cannot_cancel_admin_can(
        app: App, plain_team: Team, provider: ProviderSandbox) -> None:
    team = plain_team
    provider.cancel_delay = 0.0  # the cancel window is open at once
    card = await buy_in_group(team, team.alice)
    assert card.thread_id is None
    # Bob is neither the buyer nor an admin.
    answer = await team.chat.press("Cancel", message=card, user=team.bob, timeout=15)
    assert answer.text == "Only the buyer and the group's admins can do this."
    bought = [a for a in provider.activations if a.api_key == GROUP_KEY]
    assert bought[0].status != CANCELLED
    # Dave (an admin) may cancel Alice's number: the group's account gets the refund.
    answer = await team.chat.press("Cancel", message=card, user=team.admin, timeout=15)
    assert answer.text is not None
    assert "refunded" in answer.text
    assert bought[0].status == CANCELLED
    assert provider.balance(GROUP_KEY) == 50.0


async def test_private_and_group_accounts_never_mix(
        app: App, plain_team: Team, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    team = plain_team
    private = tg.private_chat(team.alice)
    await private.send(f"/key {DEMO_KEY}")
    await private.wait_for("100.00", timeout=15)
    await buy_in_group(team, team.alice)
    assert provider.balance(DEMO_KEY) == 100.0
    group_after = provider.balance(GROUP_KEY)
    assert group_after < 50.0
    # In private the same person buys with her own key.
    await buy_in_private(private)
    assert provider.balance(DEMO_KEY) < 100.0
    assert provider.balance(GROUP_KEY) == group_after
    assert not [m for m in private.bot_messages if "Bought by" in m.text]


async def test_rule_refusal_before_any_money_moves(
        app: App, plain_team: Team, provider: ProviderSandbox) -> None:
    team = plain_team
    rules = app.dp["group_rules"]
    await rules.update(team.chat.id, daily_limit=10.0)  # a number costs 22.00
    confirm = await open_confirm(team, team.bob)
    await team.chat.press("Buy for", message=confirm, user=team.bob, timeout=15)
    refused = await team.chat.wait_for("daily limit", timeout=15)
    assert "0.00 of 10.00 spent today" in refused.text
    assert provider.balance(GROUP_KEY) == 50.0
    assert not [a for a in provider.activations if a.api_key == GROUP_KEY]
    assert provider.calls("getNumberV2") == 0


async def test_purchase_confirmed_with_rules_and_admin_flag(
        app: App, plain_team: Team, provider: ProviderSandbox) -> None:
    team = plain_team
    rules = app.dp["purchase"].group_rules
    confirmed: list[tuple[Reservation, int]] = []
    flags: list[bool] = []
    original: Callable[..., Awaitable[Reservation | RuleRefusal]] = rules.reserve

    async def reserve(chat_id: int, member_id: int, price: float, *,
                      is_admin: bool) -> Reservation | RuleRefusal:
        flags.append(is_admin)
        return await original(chat_id, member_id, price, is_admin=is_admin)

    async def confirm(reservation: Reservation, activation_id: int) -> None:
        confirmed.append((reservation, activation_id))

    rules.reserve, rules.confirm = reserve, confirm
    await buy_in_group(team, team.admin)
    assert flags == [True]
    assert len(confirmed) == 1
    assert confirmed[0][0].member_id == team.admin.id


def codes_to_buyer(app: App) -> None:
    async def rules(chat_id: int) -> GroupRules:
        return GroupRules(codes_to="buyer")

    app.dp["purchase"].group_rules.rules = rules


async def test_codes_to_buyers_private_chat_when_rules_say_so(
        app: App, plain_team: Team, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    team = plain_team
    codes_to_buyer(app)
    private = tg.private_chat(team.alice)
    await private.send("/start")
    await private.wait_for(lambda m: True, timeout=15)
    card = await buy_in_group(team, team.alice)
    assert "sent to Alice in private" in card.text
    bought = [a for a in provider.activations if a.api_key == GROUP_KEY]
    provider.deliver_sms(bought[0].id, "48213")
    code = await private.wait_for(is_code("48213"), timeout=15)
    assert "48213" in code.text
    await team.chat.wait_for("Code received", timeout=15)  # the card shows the state
    assert not [m for m in team.chat.bot_messages if m is not card and "48213" in m.text]


async def test_codes_fall_back_to_group_when_buyer_never_started_the_bot(
        app: App, plain_team: Team, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    team = plain_team
    codes_to_buyer(app)
    # For the bot, a person who never started it answers like one who blocked it: 403.
    tg.private_chat(team.bob).block()
    await buy_in_group(team, team.bob)
    bought = [a for a in provider.activations if a.api_key == GROUP_KEY]
    provider.deliver_sms(bought[0].id, "55555")
    code = await team.chat.wait_for(is_code("55555"), timeout=15)
    assert "Bob has not started the bot in private" in code.text
    assert not [m for m in tg.private_chat(team.bob).bot_messages if "55555" in m.text]


async def make_busy(app: App, team: Team) -> None:
    """The team has been busy: the group used its burst, so its next message would wait
    (the bot paces a group to 20 messages a minute: bot/pacing.py)."""
    team.chat.enforce_group_limit(per_minute=20)
    for n in range(GROUP_MESSAGES.burst + 1):
        await app.manager.notifier.send(team.chat.id, f"busy {n}")


async def test_busy_group_gets_the_code_in_the_card_not_a_message_that_waits(
        app: App, plain_team: Team, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    team = plain_team
    card = await buy_in_group(team, team.alice)
    await make_busy(app, team)
    before = len(team.chat.bot_messages)
    bought = [a for a in provider.activations if a.api_key == GROUP_KEY]
    provider.deliver_sms(bought[0].id, "48213")
    shown = await team.chat.wait_for(
        lambda m: m.message_id == card.message_id and "48213" in m.text, timeout=15)
    assert "Code received" in shown.text
    # Delivered (not left for later) without a message of its own, so nothing waits.
    async def undelivered() -> int:
        async with app.db() as session:
            return len(await CodeRepo(session).undelivered())

    for _ in range(300):
        if await undelivered() == 0:
            break
        await asyncio.sleep(0.05)
    assert await undelivered() == 0
    assert len(team.chat.bot_messages) == before
    assert not [m for m in team.chat.bot_messages if is_code("48213")(m)]


async def test_one_groups_flood_wait_does_not_hold_other_chats(
        app: App, plain_team: Team, provider: ProviderSandbox, tg: TelegramEmulator) -> None:
    team = plain_team
    await buy_in_group(team, team.alice)
    private = tg.private_chat(team.bob)
    await private.send(f"/key {DEMO_KEY}")
    await private.wait_for("100.00", timeout=15)
    await buy_in_private(private)
    # The group answers every send and edit with a long 429 from now on.
    tg.flood(team.chat, retry_after=120, count=1000)
    group_a = next(a for a in provider.activations if a.api_key == GROUP_KEY)
    private_a = next(a for a in provider.activations if a.api_key == DEMO_KEY)
    provider.deliver_sms(group_a.id, "11111")
    provider.deliver_sms(private_a.id, "22222")
    await private.wait_for(is_code("22222"), timeout=20)
    assert not [m for m in team.chat.bot_messages if "11111" in m.text]


async def test_busy_group_gets_a_notice_in_the_card_not_a_message_that_waits(
        app: App, plain_team: Team, provider: ProviderSandbox) -> None:
    team = plain_team
    card = await buy_in_group(team, team.alice)
    await make_busy(app, team)
    before = len(team.chat.bot_messages)
    bought = [a for a in provider.activations if a.api_key == GROUP_KEY]
    provider.cancel_by_provider(bought[0].id)
    shown = await team.chat.wait_for(
        lambda m: m.message_id == card.message_id and "was cancelled by the provider" in m.text,
        timeout=20)
    assert "Bought by Alice" in shown.text
    assert len(team.chat.bot_messages) == before  # no message of its own to wait in line


async def test_a_member_over_the_running_limit_is_refused_before_any_purchase(
        app: App, plain_team: Team, provider: ProviderSandbox) -> None:
    team = plain_team
    await app.dp["group_rules"].update(team.chat.id, running_limit=1)
    await buy_in_group(team, team.bob)
    calls = provider.calls("getNumberV2")
    balance = provider.balance(GROUP_KEY)
    confirm = await open_confirm(team, team.bob)
    await team.chat.press("Buy for", message=confirm, user=team.bob, timeout=15)
    refused = await team.chat.wait_for("running limit", timeout=15)
    assert "1 of 1 numbers running" in refused.text
    assert provider.calls("getNumberV2") == calls  # nothing was sent to the provider
    assert provider.balance(GROUP_KEY) == balance
    # Another member is not held back by Bob's numbers.
    await buy_in_group(team, team.alice)
