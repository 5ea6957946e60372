"""The money rules: what must be done with an activation's money now, in one place.

Two rules move money without a press: an activation near its end is completed (a code
came, so the price is spent) or cancelled for a refund (no code), and a cancel the user
asked for before the provider allowed it is sent once its window opens. The poller asks
`due` to decide whether an activation needs work this tick and which action to run; the
manager asks it which way to finish an activation at its end.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from storage.models import Activation
from storage.states import ActivationState


class Due(enum.Enum):
    NOTHING = "nothing"
    COMPLETE_AT_END = "complete_at_end"  # near its end with a code: complete it
    REFUND_AT_END = "refund_at_end"  # near its end without a code: cancel for a refund
    CANCEL = "cancel"  # a cancel asked for too early: its window is open now


def due(a: Activation, now: datetime, *, end_margin: timedelta) -> Due:
    """What is due for `a` at `now`. The end-of-life action runs `end_margin` before the
    end, so a missed tick or two still leaves time for it."""
    state = ActivationState(a.state)
    if state.is_final:
        return Due.NOTHING
    if a.ends_at - now <= end_margin:
        return Due.COMPLETE_AT_END if state.has_code else Due.REFUND_AT_END
    if state == ActivationState.WAITING and a.cancel_requested and now >= a.cancel_at:
        return Due.CANCEL
    return Due.NOTHING


def at_end(a: Activation) -> Due:
    """How an activation is finished at its end (the end-of-life branch of `due`)."""
    return due(a, a.ends_at, end_margin=timedelta(0))
