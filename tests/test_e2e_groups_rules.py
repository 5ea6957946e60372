"""Group rules, statistics and history, driven as people would: admins set the rules with
/groupsettings buttons, others are refused; /stats and /history in a group show who
bought what. Until the group buy flow (g2) is in this tree, purchases are seeded through
the storage layer and the rule check is driven through the service the buy flow calls."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest

from bot.app import App
from bot.sandbox.telegram import EmuChat, EmuUser, TelegramEmulator
from bot.services.group_rules import GroupRules, GroupRulesService, Reservation, RuleRefusal
from bot.texts import Translator
from bot.ui.group_rules import refusal_text
from storage.models import Account, Activation, Code, utcnow
from storage.states import ActivationState

pytestmark = pytest.mark.asyncio
S = ActivationState
_PROVIDER_IDS = itertools.count(1)


class Team:
    def __init__(self, tg: TelegramEmulator) -> None:
        self.alice = tg.add_user(first_name="Alice", language_code="en")  # creator
        self.bob = tg.add_user(first_name="Bob", language_code="en")  # admin
        self.carol = tg.add_user(first_name="Carol", language_code="en")
        self.dave = tg.add_user(first_name="Dave", language_code="en")
        self.group: EmuChat = tg.add_group("Team", admins=[self.alice, self.bob],
                                           members=[self.carol, self.dave])


@pytest.fixture
def team(tg: TelegramEmulator) -> Team:
    return Team(tg)


def service(app: App) -> GroupRulesService:
    found = app.dp["group_rules"]
    assert isinstance(found, GroupRulesService)
    return found


async def seed(app: App, chat_id: int, buyer: EmuUser, *, cost: float, state: S = S.COMPLETED,
               codes: tuple[str, ...] = (), ago: timedelta = timedelta(0)) -> None:
    """A purchase made with the group's account, stored as the buy flow stores it."""
    async with app.db() as session:
        account = Account(owner_id=chat_id, key_encrypted=app.keybox.encrypt("demoKEY0000"),
                          key_hint="…0000", linked_by=buyer.id)
        session.add(account)
        await session.commit()
        assert account.id is not None
        bought = utcnow() - ago
        number = next(_PROVIDER_IDS)
        row = Activation(provider_id=number, account_id=account.id,
                         chat_id=chat_id, buyer_id=buyer.id, service="tg", country=0,
                         phone=f"7900{number:07d}", cost=cost,
                         currency=643, state=state, bought_at=bought,
                         cancel_at=bought + timedelta(minutes=2),
                         ends_at=bought + timedelta(minutes=20))
        session.add(row)
        await session.commit()
        assert row.id is not None
        for seq, code in enumerate(codes, 1):
            session.add(Code(activation_id=row.id, seq=seq, code=code))
        await session.commit()


async def test_admins_set_every_rule_with_buttons_and_members_cannot(
        app: App, team: Team) -> None:
    group = team.group
    await group.send("/groupsettings", user=team.carol)
    await group.wait_for("Only the group's admins")

    await group.send("/groupsettings", user=team.alice)
    menu = await group.wait_for("Group rules")
    assert "Who may buy: everyone" in menu.text

    # A member pressing the admins' buttons: a toast, nothing changes.
    pressed = await group.press("Who may buy", user=team.dave, message=menu)
    assert pressed.text == "Only the group's admins can do this."
    assert await service(app).rules(group.id) == GroupRules()

    await group.press("Who may buy", user=team.alice, message=menu)
    await group.wait_for("Who may buy: admins only")
    await group.press("Who may buy", user=team.bob, message=menu)  # any admin may
    await group.wait_for("Who may buy: chosen members")
    await group.press("Daily limit", user=team.alice, message=menu)
    await group.wait_for("Daily spending limit per member")
    await group.press("200.00", user=team.alice, message=menu)
    await group.wait_for("Daily limit per member: 200.00")
    await group.press("Running limit", user=team.alice, message=menu)
    await group.press("2", user=team.alice, message=menu)
    await group.wait_for("at once per member: 2")
    await group.press("Codes to", user=team.alice, message=menu)
    await group.wait_for("Codes go to: the buyer's private chat")
    assert await service(app).rules(group.id) == GroupRules(
        who_may_buy="chosen", daily_limit=200.0, running_limit=2, codes_to="buyer")

    # An admin who lost the rights can do nothing more.
    group.demote(team.bob, by=team.alice)
    pressed = await group.press("Daily limit", user=team.bob, message=menu)
    assert pressed.text == "Only the group's admins can do this."


async def test_members_are_chosen_by_reply_or_from_recent_buyers(app: App, team: Team) -> None:
    group = team.group
    await seed(app, group.id, team.dave, cost=5.0)
    said = await group.send("hello", user=team.carol)
    await group.send("/groupsettings", user=team.alice, reply_to=said.message_id)
    screen = await group.wait_for("Chosen members")
    assert screen.buttons[0][0] == "▫️ Carol"
    assert "▫️ Dave" in [row[0] for row in screen.buttons]  # a recent buyer
    await group.press("Carol", user=team.alice, message=screen)
    await group.wait_for(lambda m: m.buttons[0][0:1] == ["✅ Carol"])
    assert (await service(app).rules(group.id)).chosen == frozenset({team.carol.id})
    # From the list, next time: Carol stays listed (chosen), Dave is chosen with a tap.
    await group.send("/groupsettings", user=team.bob)
    menu = await group.wait_for("Group rules")
    await group.press("Chosen members", user=team.bob, message=menu)
    await group.wait_for(lambda m: "✅ Carol" in [row[0] for row in m.buttons])
    await group.press("Dave", user=team.bob, message=menu)
    await group.wait_for(lambda m: "✅ Dave" in [row[0] for row in m.buttons])
    assert (await service(app).rules(group.id)).chosen == {team.carol.id, team.dave.id}


async def test_a_purchase_over_a_rule_is_refused_naming_the_rule(app: App, team: Team) -> None:
    group = team.group
    await group.send("/groupsettings", user=team.alice)
    menu = await group.wait_for("Group rules")
    await group.press("Daily limit", user=team.alice, message=menu)
    await group.press("50.00", user=team.alice, message=menu)
    await group.wait_for("Daily limit per member: 50.00")
    await group.press("Running limit", user=team.alice, message=menu)
    await group.press("1", user=team.alice, message=menu)
    await group.wait_for("at once per member: 1")
    await seed(app, group.id, team.carol, cost=45.0)  # completed today
    await seed(app, group.id, team.carol, cost=50.0, ago=timedelta(days=1, hours=1))

    rules = service(app)
    refusal = await rules.reserve(group.id, team.carol.id, 10.0, is_admin=False)
    assert refusal == RuleRefusal("daily_limit", limit=50.0, used=45.0)
    text = refusal_text(refusal, Translator("en"), 10.0, 643)
    assert 'rule "daily limit"' in text
    assert "45.00" in text
    held = await rules.reserve(group.id, team.carol.id, 5.0, is_admin=False)
    assert isinstance(held, Reservation)
    running = await rules.reserve(group.id, team.carol.id, 0.0, is_admin=False)
    assert isinstance(running, RuleRefusal)
    assert 'rule "running limit"' in refusal_text(running, Translator("en"), 0.0)
    assert "правилу группы «одновременно»" in refusal_text(running, Translator("ru"), 0.0)


async def test_stats_per_member_for_admins_only(app: App, team: Team,
                                                tg: TelegramEmulator) -> None:
    group = team.group
    await seed(app, group.id, team.carol, cost=10.0, codes=("1111",))
    await seed(app, group.id, team.carol, cost=7.5, state=S.CANCELLED)
    await seed(app, group.id, team.carol, cost=3.0, state=S.WAITING, codes=("2222", "3333"))
    await seed(app, group.id, team.dave, cost=4.0, codes=("4444",))
    await seed(app, -100777, team.dave, cost=99.0)  # another group: not here

    await group.send("/stats", user=team.dave)
    await group.wait_for("Only the group's admins")
    await group.send("/stats", user=team.bob)
    shown = await group.wait_for("Group spending")
    carol = shown.text[shown.text.index("Carol"):shown.text.index("Dave")]
    assert "13.00 ₽ / 13.00 ₽ / 13.00 ₽" in carol
    assert "numbers this month: 3 · codes: 3 · refunds: 1 (7.50 ₽)" in carol
    dave = shown.text[shown.text.index("Dave"):]
    assert "4.00 ₽ / 4.00 ₽ / 4.00 ₽" in dave
    assert "99" not in dave

    # In private, /stats is still the operators' (Alice is not one).
    private = tg.private_chat(team.alice)
    await private.send("/stats")
    reply = await private.wait_for(lambda m: True)
    assert "Group spending" not in reply.text


async def test_group_history_names_the_buyer_and_its_csv_has_a_buyer_column(
        app: App, team: Team) -> None:
    group = team.group
    await seed(app, group.id, team.carol, cost=10.0, codes=("1111",))
    await seed(app, group.id, team.dave, cost=4.0)
    await group.send("/history", user=team.dave)
    page = await group.wait_for("History")
    assert "Bought by Carol" in page.text
    assert "Bought by Dave" in page.text
    await group.press("CSV", user=team.dave, message=page)
    sent = await group.wait_for(lambda m: m.document is not None)
    assert sent.document is not None
    rows = list(csv.DictReader(io.StringIO(sent.document.data.decode("utf-8"))))
    assert {(row["buyer"], row["buyer_id"]) for row in rows} == {
        ("Carol", str(team.carol.id)), ("Dave", str(team.dave.id))}


async def test_forged_presses_change_nothing(app: App, team: Team) -> None:
    group = team.group
    await group.send("/groupsettings", user=team.alice)
    menu = await group.wait_for("Group rules")
    for data in ("gr:sr:99999999999", "gr:sd:-5", "gr:sd:1e9", "gr:t:-100", "gr:t:x"):
        await group.press_data(data, menu.message_id, user=team.alice)
    assert await service(app).rules(group.id) == GroupRules()


async def test_groupsettings_in_private_says_it_is_for_groups(app: App, team: Team,
                                                              tg: TelegramEmulator) -> None:
    private = tg.private_chat(team.alice)
    await private.send("/groupsettings")
    await private.wait_for("This command works in a group.")
