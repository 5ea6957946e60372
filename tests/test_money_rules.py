"""bot/money_rules.due: the one place that says which money action is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.money_rules import Due, at_end, due
from storage.models import Activation
from storage.states import ActivationState

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MARGIN = timedelta(seconds=15)


def activation(state: ActivationState, *, ends_in: float = 600, cancel_in: float = -1,
               cancel_requested: bool = False) -> Activation:
    return Activation(provider_id=1, account_id=1, chat_id=1, buyer_id=1, service="tg",
                      country=0, phone="79990000000", cost=1.0, state=state,
                      bought_at=NOW, cancel_at=NOW + timedelta(seconds=cancel_in),
                      ends_at=NOW + timedelta(seconds=ends_in),
                      cancel_requested=cancel_requested)


@pytest.mark.parametrize(("a", "expected"), [
    (activation(ActivationState.WAITING), Due.NOTHING),
    (activation(ActivationState.WAITING, ends_in=10), Due.REFUND_AT_END),
    (activation(ActivationState.RECEIVED, ends_in=10), Due.COMPLETE_AT_END),
    (activation(ActivationState.RETRY, ends_in=-100), Due.COMPLETE_AT_END),
    (activation(ActivationState.WAITING, cancel_requested=True), Due.CANCEL),
    (activation(ActivationState.WAITING, cancel_requested=True, cancel_in=30), Due.NOTHING),
    (activation(ActivationState.RECEIVED, cancel_requested=True), Due.NOTHING),
    (activation(ActivationState.COMPLETED, ends_in=-100), Due.NOTHING),
    (activation(ActivationState.CANCELLED, cancel_requested=True), Due.NOTHING),
])
def test_due(a: Activation, expected: Due) -> None:
    assert due(a, NOW, end_margin=MARGIN) is expected


def test_at_end_says_which_way_an_activation_is_finished() -> None:
    assert at_end(activation(ActivationState.WAITING)) is Due.REFUND_AT_END
    assert at_end(activation(ActivationState.RECEIVED)) is Due.COMPLETE_AT_END
