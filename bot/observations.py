"""What the provider said about an activation in one poll, and whether that needs work.

Pure functions (no I/O): the poller (bot/poller.py) builds an Observation per activation
and asks `needs_work` before it spends a task on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.koala import SmsStatus, StatusResult
from bot.koala.models import ActiveActivation
from bot.money_rules import Due, due
from storage.models import Activation


@dataclass(frozen=True, slots=True)
class Observation:
    """What the provider said about one activation in this tick."""

    status: StatusResult | None  # None: the provider did not say (fault, or unknown)
    codes: tuple[str, ...] = ()  # every code the list shows, oldest first
    can_get_another_sms: bool | None = None
    unknown: bool = False  # the provider answered NO_ACTIVATION


def observation_from_row(row: ActiveActivation) -> Observation:
    """A getActiveActivations row as a status. In RETRY the row may still show the old
    code: the manager records a code only when it differs from the last one it has."""
    if row.code:
        status = StatusResult(SmsStatus.OK, row.code, row.text)
    else:
        status = StatusResult(SmsStatus.WAIT_CODE)
    return Observation(status, codes=row.codes, can_get_another_sms=row.can_get_another_sms)


def new_codes(known: list[str], shown: tuple[str, ...]) -> list[str]:
    """Codes of `shown` (the provider's list, oldest first) that we have not recorded.

    When the list repeats what we know as its beginning, the rest is new; otherwise only
    its last code can be trusted (the manager drops it if it equals our last one)."""
    if not shown:
        return []
    if len(shown) >= len(known) and list(shown[: len(known)]) == known:
        return list(shown[len(known):])
    return [shown[-1]]


def needs_work(a: Activation, seen: Observation, known: list[str], now: datetime,
               end_margin: timedelta) -> bool:
    """False when an answer brings nothing new and no money rule is due: that is most
    activations on most ticks, and they then cost no query and no task."""
    if due(a, now, end_margin=end_margin) is not Due.NOTHING:
        return True
    if seen.unknown:
        return True
    status = seen.status
    if status is None or status.status == SmsStatus.WAIT_RETRY:
        return False
    flag_changed = (seen.can_get_another_sms is not None
                    and seen.can_get_another_sms != a.can_get_another_sms)
    if status.status == SmsStatus.WAIT_CODE:
        return flag_changed
    if status.status == SmsStatus.OK:
        shown = seen.codes or ((status.code,) if status.code else ())
        return bool(new_codes(known, shown)) or flag_changed
    if status.status == SmsStatus.WAIT_RESEND:
        return not a.resend_requested
    return True  # CANCEL, or a status we did not expect: let the manager look
