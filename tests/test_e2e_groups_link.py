"""Groups, linking an account (issue "Group shared accounts", part g1): the bot joining, the
admin's one-time deep link, the key taken in private, non-admins refused, keys pasted in the
group deleted, /unlink, rights following chat_member updates at once, a basic group
becoming a supergroup, and the bot removed from the group.

A supergroup "Team": Carol created it, Dave is an admin, Mia and Max are members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import EmuChat, EmuMessage, EmuUser, TelegramEmulator
from bot.services.groups import GroupService
from bot.services.purchase import PurchaseService, Refusal
from storage.models import Activation, utcnow
from storage.repo import AccountRepo
from storage.states import ActivationState
from tests.conftest import DEMO_KEY
from tests.helpers import BALANCE, PRICE, stored, until
from tests.helpers_time import TimeTravel

LINK_BUTTON = "Send the key in private"


@dataclass
class Team:
    chat: EmuChat
    carol: EmuUser  # creator
    dave: EmuUser  # admin
    mia: EmuUser  # member
    max: EmuUser  # member


def make_team(tg: TelegramEmulator, *, kind: str = "supergroup", forum: bool = False) -> Team:
    carol = tg.add_user(first_name="Carol")
    dave = tg.add_user(first_name="Dave")
    mia = tg.add_user(first_name="Mia")
    max_ = tg.add_user(first_name="Max", language_code="ru")
    chat = tg.add_group("Team", [carol, dave], [mia, max_], kind=kind, forum=forum)
    return Team(chat, carol, dave, mia, max_)


@pytest.fixture
def team(tg: TelegramEmulator) -> Team:
    return make_team(tg)


def groups_of(app: App) -> GroupService:
    service = app.dp["groups"]
    assert isinstance(service, GroupService)
    return service




async def ask_link(chat: EmuChat, admin: EmuUser) -> str:
    """`admin` sends /setkey in the group; the URL of the button the bot answers with."""
    await chat.send("/setkey", admin)
    answer = await chat.wait_for(lambda m: m.find_button(LINK_BUTTON) is not None, timeout=10)
    return str(answer.button(LINK_BUTTON)["url"])


async def link_key(tg: TelegramEmulator, chat: EmuChat, admin: EmuUser,
                   key: str = DEMO_KEY) -> EmuMessage:
    url = await ask_link(chat, admin)
    private = tg.private_chat(admin)
    await tg.start_link(admin, url)
    await private.wait_for("Send me the API key for the group", timeout=10)
    sent = await private.send(key, admin)
    await private.wait_for("saved", timeout=10)
    assert private.message(sent.message_id) is not None
    assert private.message(sent.message_id).deleted  # type: ignore[union-attr]
    return await chat.wait_for("linked a KoalaSMS account", timeout=10)


async def group_key_hint(app: App, chat_id: int) -> str | None:
    return await groups_of(app).key_hint(chat_id)


def no_key_in(chat: EmuChat, key: str = DEMO_KEY) -> bool:
    return all(key not in m.text for m in chat.messages if not m.deleted)


# -- joining and the command menu ------------------------------------------------------
async def test_the_bot_added_to_a_group_introduces_itself_once(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    team.chat.bot_left = True  # the bot is not in the group yet
    team.chat.add_bot(by=team.carol)
    intro = await team.chat.wait_for("/setkey", timeout=10)
    assert "Admins" in intro.text
    await team.chat.wait_idle()
    assert len(team.chat.bot_messages) == 1  # one short message


async def test_commands_are_published_per_scope(app: App, tg: TelegramEmulator) -> None:
    await tg.wait_request("setMyCommands", count=6, timeout=10)
    private = [c["command"] for c in tg.commands({"type": "all_private_chats"})]
    group = [c["command"] for c in tg.commands({"type": "all_group_chats"})]
    admins = tg.commands({"type": "all_chat_administrators"}, "ru")
    assert "key" in private
    assert "setkey" not in private
    assert "buy" in group
    assert "key" not in group
    assert "setkey" not in group
    assert {"setkey", "unlink", "buy"} <= {c["command"] for c in admins}
    assert any(c["description"].startswith("Подключить") for c in admins)


# -- linking ---------------------------------------------------------------------------
async def test_an_admin_links_the_group_key_through_the_deep_link(
        app: App, tg: TelegramEmulator, team: Team, provider: ProviderSandbox) -> None:
    announced = await link_key(tg, team.chat, team.dave)
    assert "Dave" in announced.text
    hint = await group_key_hint(app, team.chat.id)
    assert hint is not None
    assert hint in announced.text
    assert await groups_of(app).is_linked(team.chat.id)
    saved = tg.private_chat(team.dave).last
    assert "«Team»" in saved.text
    assert "100.00" in saved.text
    # The key is the group's, not Dave's own.
    assert await app.dp["accounts"].key_hint(team.dave.id) is None
    assert no_key_in(team.chat)
    assert no_key_in(tg.private_chat(team.dave))
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(team.chat.id)
    assert account is not None
    assert account.linked_by == team.dave.id


async def test_the_link_is_unguessable_and_bound_to_one_admin(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    url = await ask_link(team.chat, team.dave)
    payload = url.split("start=", 1)[1]
    assert payload.startswith("link_")
    assert len(payload) >= 32
    assert len(payload) <= 64
    again = await ask_link(team.chat, team.dave)
    assert again != url  # a fresh token each time
    # Mia got hold of Dave's link: refused, and the link is gone for good.
    await tg.start_link(team.mia, url)
    await tg.private_chat(team.mia).wait_for("made for another admin", timeout=10)
    await tg.start_link(team.dave, url)
    await tg.private_chat(team.dave).wait_for("already used", timeout=10)
    # A made-up token is refused too.
    await tg.start_link(team.dave, "link_" + "A" * 32)
    await tg.private_chat(team.dave).wait_for("already used", timeout=10)


async def test_a_used_link_is_refused(app: App, tg: TelegramEmulator, team: Team) -> None:
    url = await ask_link(team.chat, team.dave)
    private = tg.private_chat(team.dave)
    await tg.start_link(team.dave, url)
    await private.wait_for("Send me the API key", timeout=10)
    await private.send("/cancel", team.dave)
    await private.wait_for("Cancelled", timeout=10)
    await tg.start_link(team.dave, url)
    await private.wait_for("not valid or was already used", timeout=10)
    # A key sent now is not the group's.
    await private.send(DEMO_KEY, team.dave)
    await private.wait_idle()
    assert await group_key_hint(app, team.chat.id) is None


async def test_an_expired_link_is_refused(app: App, tg: TelegramEmulator, team: Team) -> None:
    url = await ask_link(team.chat, team.dave)
    groups_of(app).clock = lambda: utcnow() + timedelta(minutes=11)
    await tg.start_link(team.dave, url)
    await tg.private_chat(team.dave).wait_for("expired", timeout=10)
    assert await group_key_hint(app, team.chat.id) is None


async def test_a_non_admin_setkey_is_refused(app: App, tg: TelegramEmulator,
                                             team: Team) -> None:
    await team.chat.send("/setkey", team.mia)
    refusal = await team.chat.wait_for("Only the group's admins", timeout=10)
    assert refusal.reply_markup is None  # no link
    await team.chat.send("/unlink", team.max)
    await team.chat.wait_for("Это могут только администраторы", timeout=10)


async def test_a_key_pasted_into_the_group_is_deleted_with_a_warning(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    pasted = await team.chat.send(DEMO_KEY, team.mia)
    await team.chat.wait_for("looked like an API key", timeout=10)
    assert team.chat.message(pasted.message_id).deleted  # type: ignore[union-attr]
    with_command = await team.chat.send(f"/setkey {DEMO_KEY}", team.dave)
    await team.chat.wait_for(lambda m: m.find_button(LINK_BUTTON) is not None, timeout=10)
    assert team.chat.message(with_command.message_id).deleted  # type: ignore[union-attr]
    assert no_key_in(team.chat)
    assert await group_key_hint(app, team.chat.id) is None  # never taken from the group


async def test_a_key_inside_a_sentence_in_the_group_is_deleted_too(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    pasted = await team.chat.send(f"here is the key {DEMO_KEY}, use it", team.max)
    await team.chat.wait_for("API", timeout=10)
    assert team.chat.message(pasted.message_id).deleted  # type: ignore[union-attr]
    assert no_key_in(team.chat)
    chatter = await team.chat.send("see you at 10:30, the code was 123456", team.mia)
    await team.chat.wait_idle()
    assert not team.chat.message(chatter.message_id).deleted  # type: ignore[union-attr]


async def test_buy_in_a_group_without_a_key_says_an_admin_links_one(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    await team.chat.send("/buy", team.mia)
    answer = await team.chat.wait_for("/setkey", timeout=10)
    assert "Send /key" not in answer.text
    assert answer.reply_markup is None or not answer.buttons


# -- rights follow chat_member updates at once -----------------------------------------
async def test_an_admin_demoted_loses_the_rights_at_once(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    await ask_link(team.chat, team.dave)  # Dave is an admin: cached as such
    url = await ask_link(team.chat, team.dave)
    team.chat.demote(team.dave)
    await team.chat.wait_idle()
    await team.chat.send("/setkey", team.dave)
    await team.chat.wait_for("Only the group's admins", timeout=10)
    # The link he got while an admin is no good either.
    await tg.start_link(team.dave, url)
    await tg.private_chat(team.dave).wait_for("no longer an admin", timeout=10)


async def test_an_admin_who_leaves_loses_the_rights_at_once(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    await ask_link(team.chat, team.dave)
    team.chat.remove(team.dave)
    await team.chat.wait_idle()
    assert not await groups_of(app).is_admin(team.chat.id, team.dave.id)


async def test_a_member_promoted_gains_the_rights_at_once(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    await team.chat.send("/setkey", team.mia)
    await team.chat.wait_for("Only the group's admins", timeout=10)
    team.chat.promote(team.mia)
    await team.chat.wait_idle()
    await ask_link(team.chat, team.mia)


async def test_rights_lost_between_the_link_and_the_key_keep_the_key_out(
        app: App, tg: TelegramEmulator, team: Team) -> None:
    url = await ask_link(team.chat, team.dave)
    private = tg.private_chat(team.dave)
    await tg.start_link(team.dave, url)
    await private.wait_for("Send me the API key", timeout=10)
    team.chat.demote(team.dave)
    await team.chat.wait_idle()
    sent = await private.send(DEMO_KEY, team.dave)
    await private.wait_for("no longer an admin", timeout=10)
    assert private.message(sent.message_id).deleted  # type: ignore[union-attr]
    assert await group_key_hint(app, team.chat.id) is None


# -- unlink ----------------------------------------------------------------------------
async def test_unlink_removes_the_group_key(app: App, tg: TelegramEmulator,
                                            team: Team) -> None:
    await link_key(tg, team.chat, team.dave)
    await team.chat.send("/unlink", team.mia)
    await team.chat.wait_for("Only the group's admins", timeout=10)
    assert await group_key_hint(app, team.chat.id) is not None
    await team.chat.send("/unlink", team.carol)
    await team.chat.wait_for("was removed", timeout=10)
    assert await group_key_hint(app, team.chat.id) is None
    await team.chat.send("/unlink", team.carol)
    await team.chat.wait_for("no key to remove", timeout=10)


# -- migration and removal -------------------------------------------------------------
async def buy_in_group(app: App, chat: EmuChat, buyer: EmuUser) -> Activation:
    """A member's purchase with the group's account (the group buy menus are g2's)."""
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(chat.id)
    assert account is not None
    a = await app.manager.purchase(account=account, chat_id=chat.id, buyer_id=buyer.id,
                                   service="tg", country=0, max_price=None)
    a = await app.manager.send_card(a)
    await chat.wait_for("Waiting for the SMS", timeout=10)
    return a


async def test_a_group_becoming_a_supergroup_keeps_its_account_and_history(
        app: App, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    team = make_team(tg, kind="group")
    await link_key(tg, team.chat, team.dave)
    hint = await group_key_hint(app, team.chat.id)
    a = await buy_in_group(app, team.chat, team.mia)
    new = team.chat.migrate_to_supergroup(by=team.carol)
    await until(lambda: _has_key(app, new.id), "the account moved to the supergroup")
    assert await group_key_hint(app, new.id) == hint
    assert await group_key_hint(app, team.chat.id) is None
    assert (await stored(app, a)).chat_id == new.id  # its codes go to the new chat
    provider.deliver_sms(a.provider_id, "515151")
    await new.wait_for(lambda m: "515151" in m.text, timeout=15)
    # Admin rights still work in the new chat.
    await ask_link(new, team.dave)


async def _has_key(app: App, chat_id: int) -> bool:
    return await group_key_hint(app, chat_id) is not None


async def test_removing_the_bot_stops_purchases_and_settles_what_runs(
        app: App, tg: TelegramEmulator, team: Team, provider: ProviderSandbox) -> None:
    await link_key(tg, team.chat, team.dave)
    clock = TimeTravel(app, provider)
    a = await buy_in_group(app, team.chat, team.mia)
    assert provider.balance(DEMO_KEY) == BALANCE - PRICE
    team.chat.remove_bot(by=team.carol)
    await until(lambda: _no_key(app, team.chat.id), "the group's account retired")
    purchase = app.dp["purchase"]
    assert isinstance(purchase, PurchaseService)
    assert await purchase.ready(team.chat.id, team.chat.id, 1, "tg") is Refusal.NO_KEY
    # The number still runs: no code comes, the bot cancels it at the end and the
    # refund is confirmed by the provider.
    clock.advance(1200 - 4)

    async def settled() -> bool:
        return (await stored(app, a)).state == ActivationState.EXPIRED
    await until(settled, "the activation cancelled and refunded", timeout=20)
    assert provider.activation(a.provider_id).status == "cancelled"
    assert provider.balance(DEMO_KEY) == BALANCE


async def _no_key(app: App, chat_id: int) -> bool:
    return await group_key_hint(app, chat_id) is None


async def test_an_admin_who_leaves_loses_the_rights_even_where_the_bot_is_no_admin(
        app: App, tg: TelegramEmulator) -> None:
    # Telegram sends chat_member updates only to admin bots: the service message
    # announcing the departure is what tells this bot.
    tg.chat_member_admins_only = True
    team = make_team(tg)
    team.chat.bot_admin = False
    await ask_link(team.chat, team.dave)
    team.chat.remove(team.dave)
    await team.chat.wait_idle()
    assert not await groups_of(app).is_admin(team.chat.id, team.dave.id)


async def test_a_key_sent_after_the_group_became_a_supergroup_serves_the_new_chat(
        app: App, tg: TelegramEmulator) -> None:
    team = make_team(tg, kind="group")
    url = await ask_link(team.chat, team.dave)
    private = tg.private_chat(team.dave)
    await tg.start_link(team.dave, url)
    await private.wait_for("Send me the API key", timeout=10)
    new = team.chat.migrate_to_supergroup(by=team.carol)
    await private.send(DEMO_KEY, team.dave)
    await private.wait_for("saved", timeout=10)
    await new.wait_for("linked a KoalaSMS account", timeout=10)
    assert await group_key_hint(app, new.id) is not None
    assert await group_key_hint(app, team.chat.id) is None


async def test_setkey_in_a_forum_topic_is_answered_in_that_topic(
        app: App, tg: TelegramEmulator) -> None:
    team = make_team(tg, forum=True)
    topic = team.chat.topic("Numbers", by=team.carol)
    await team.chat.send("/setkey", team.dave, thread=topic)
    await team.chat.wait_for(lambda m: m.find_button(LINK_BUTTON) is not None,
                             timeout=10, thread=topic)
    await team.chat.send("/setkey", team.mia, thread=topic)
    await team.chat.wait_for("Only the group's admins", timeout=10, thread=topic)
