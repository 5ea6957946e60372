"""Pure rendering of activation cards and code messages (text + keyboard)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot import dialling
from bot.catalog import Catalog
from bot.limits import MESSAGE_LIMIT, cut, units, visible_units
from bot.money import money
from bot.texts import Raw, Translator, esc
from bot.ui.callbacks import ActCb
from storage.models import Activation, Code, User
from storage.states import ActivationState

# Activation.card_refreshed_at of a card whose last edit did not reach the chat: it is
# rendered again as soon as the chat can be reached (bot/card_refresh.py).
STALE = datetime(1970, 1, 1, tzinfo=UTC)

# A code is a few characters; a provider may still send a whole sentence as the "code".
# Lists (cards, history) show this much of each, the code message more; nothing is lost:
# the copy button and the file carry the rest.
CODE_IN_LIST = 64
CODE_SHOWN = 512
_NOTE_ROOM = 200  # room kept in a code message for the line that points to the file

# Without a time-zone setting, Russian speakers most likely live on Moscow time.
_DEFAULT_OFFSET = {"ru": 180}


class HasTimeZone(Protocol):
    """A user's row or its copy (bot.services.dto.UserInfo): what the time zone comes from."""

    @property
    def tz_offset_minutes(self) -> int | None: ...
    @property
    def language(self) -> str | None: ...


class ListFacts(Protocol):
    """What a line of /active needs: an activation row, or the service layer's plain copy."""

    @property
    def id(self) -> int | None: ...
    @property
    def service(self) -> str: ...
    @property
    def country(self) -> int | None: ...
    @property
    def phone(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def cost(self) -> float: ...
    @property
    def currency(self) -> int | None: ...
    @property
    def cancel_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def cancel_requested(self) -> bool: ...
    @property
    def resend_requested(self) -> bool: ...


def user_tz(user: HasTimeZone | None) -> timezone:
    if user is None:
        return UTC
    minutes = user.tz_offset_minutes
    if minutes is None:
        minutes = _DEFAULT_OFFSET.get(user.language or "", 0)
    return timezone(timedelta(minutes=minutes))


def chosen_tz(user: User | None) -> timezone | None:
    """The user's own time zone, or None when they never set one: absolute times are
    shown only then, since a guessed zone is wrong for many people."""
    if user is None or user.tz_offset_minutes is None:
        return None
    return timezone(timedelta(minutes=user.tz_offset_minutes))


def clock(moment: datetime, tz: timezone) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%H:%M")


def phone_display(phone: str) -> str:
    return phone if phone.startswith("+") else f"+{phone}"


def shown_country(a: ListFacts) -> int | None:
    """The country to show: the one chosen, or for "any country" the one the provider
    gave, read from the number's dialling code (None when even that is unknown)."""
    return a.country if a.country is not None else dialling.country_of(a.phone)


def countdown(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def time_left(seconds: float, t: Translator) -> str:
    # Rounded down: between two refreshes the card may only understate the time left.
    if seconds <= 0:
        return t("act.left.over")
    if seconds < 60:
        return t("act.left.under_minute")
    return t("act.left.minutes", minutes=int(seconds // 60))


def _seconds(later: datetime, now: datetime) -> float:
    return (_aware(later) - _aware(now)).total_seconds()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def cancel_unconfirmed(a: ListFacts, now: datetime) -> bool:
    """Past its end with no code and still not cancelled: the bot's cancel at the end
    has not been confirmed by the provider (it refused or did not answer), and the
    poller keeps trying until the outcome is known. This is the hook for item 10: the
    cancel logic needs no flag, only to leave the state WAITING until it knows."""
    return ActivationState(a.state) == ActivationState.WAITING and _seconds(a.ends_at, now) <= 0


def _state_line(a: ListFacts, t: Translator, now: datetime) -> str:
    state = ActivationState(a.state)
    price = money(a.cost, a.currency)
    if state == ActivationState.WAITING:
        if cancel_unconfirmed(a, now):
            return t("act.state.cancel_unconfirmed")
        return t("act.state.resend") if a.resend_requested else t("act.state.waiting")
    return t(f"act.state.{state.value}", price=price)


def _times_line(a: Activation, t: Translator, now: datetime, tz: timezone | None) -> str | None:
    """Time left, relative to the reader's now; the end as a clock time only for users
    who set their time zone (a guessed zone would show a wrong time)."""
    state = ActivationState(a.state)
    if state.is_final or cancel_unconfirmed(a, now):
        return None
    left = time_left(_seconds(a.ends_at, now), t)
    to_cancel = _seconds(a.cancel_at, now)
    if state == ActivationState.WAITING and to_cancel > 0 and not a.cancel_requested:
        line = t("act.times_left", cancel_in=countdown(to_cancel), left=left)
    else:
        line = left
    if tz is not None:
        line += " · " + t("act.ends_at", ends_at=clock(a.ends_at, tz))
    return line


def card_text(a: Activation, codes: list[Code], t: Translator, catalog: Catalog,
              now: datetime, tz: timezone | None = None, *, buyer: str | None = None) -> str:
    """The card as of `now`. `tz`: the user's own time zone, when they set one."""
    state = ActivationState(a.state)
    lines = [
        "<b>" + t("act.title", service=catalog.service_name(a.service, t.lang),
                  country=catalog.country_label(shown_country(a), t.lang)) + "</b>",
        t("act.number", phone=phone_display(a.phone)),
        t("act.price", price=money(a.cost, a.currency)),
    ]
    if buyer:
        lines.append(t("act.buyer", buyer=buyer))
    if codes:
        shown = ", ".join(f"<code>{esc(cut(c.code, CODE_IN_LIST))}</code>" for c in codes)
        lines.append(t("act.codes" if len(codes) == 1 else "act.codes_many", codes=Raw(shown)))
    times = _times_line(a, t, now, tz)
    if times:
        lines.append(times)
    lines.append("")
    lines.append(_state_line(a, t, now))
    if a.cancel_requested and state == ActivationState.WAITING and not cancel_unconfirmed(a, now):
        to_cancel = _seconds(a.cancel_at, now)
        lines.append(t("act.will_cancel_in", cancel_in=countdown(to_cancel))
                     if to_cancel > 0 else t("act.will_cancel_now"))
    return "\n".join(lines)


def list_entry(n: int, a: ListFacts, t: Translator, catalog: Catalog, now: datetime) -> str:
    """One line of /active: service, number, state, time left."""
    state = ActivationState(a.state)
    if cancel_unconfirmed(a, now):
        status = t("act.list.cancelling")
    elif state == ActivationState.WAITING:
        to_cancel = _seconds(a.cancel_at, now)
        status = t("act.list.waiting")
        if to_cancel > 0 and not a.cancel_requested:
            status += " · " + t("act.list.cancel_in", cancel_in=countdown(to_cancel))
    elif state.has_code:
        status = t("act.list.has_code")
    else:
        status = _state_line(a, t, now)
    left = "" if state.is_final else " · " + time_left(_seconds(a.ends_at, now), t)
    return t("act.list.entry", n=n, service=catalog.service_name(a.service, t.lang),
             flag=catalog.country_flag(shown_country(a)), phone=phone_display(a.phone),
             status=Raw(status + left))


def list_markup(running: Sequence[ListFacts], t: Translator,
                catalog: Catalog) -> InlineKeyboardMarkup:
    """One button per entry; pressing it brings that activation's card down here."""
    rows = [[InlineKeyboardButton(
        text=t("act.btn.show", n=n, service=catalog.service_name(a.service, t.lang),
               phone=phone_display(a.phone)),
        callback_data=ActCb(action="show", id=a.id or 0).pack())]
        for n, a in enumerate(running, 1)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def moved_text(a: Activation, t: Translator, catalog: Catalog) -> str:
    """What an older copy of a card becomes once a newer one is posted."""
    return t("act.card_moved", service=catalog.service_name(a.service, t.lang),
             phone=phone_display(a.phone))


def card_markup(a: Activation, t: Translator, now: datetime | None = None) -> InlineKeyboardMarkup:
    assert a.id is not None
    state = ActivationState(a.state)
    rows: list[list[InlineKeyboardButton]] = []
    if not state.is_final:
        rows.append([InlineKeyboardButton(text=t("act.btn.copy_number"),
                                          copy_text=CopyTextButton(text=phone_display(a.phone)))])
    unconfirmed = now is not None and cancel_unconfirmed(a, now)
    if state == ActivationState.WAITING and not a.cancel_requested and not unconfirmed:
        rows.append([InlineKeyboardButton(
            text=t("act.btn.cancel"), callback_data=ActCb(action="cancel", id=a.id).pack())])
    elif state in {ActivationState.RECEIVED, ActivationState.RETRY}:
        row = []
        if state == ActivationState.RECEIVED and a.can_get_another_sms:
            row.append(InlineKeyboardButton(
                text=t("act.btn.another"), callback_data=ActCb(action="another", id=a.id).pack()))
        row.append(InlineKeyboardButton(
            text=t("act.btn.complete"), callback_data=ActCb(action="done", id=a.id).pack()))
        rows.append(row)
    elif state.is_final:
        rows.append([InlineKeyboardButton(
            text=t("act.btn.again"), callback_data=ActCb(action="again", id=a.id).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def code_message(a: Activation, code: Code, t: Translator,
                 catalog: Catalog) -> tuple[str, str | None]:
    """The code message, within Telegram's 4096 characters, and the full SMS when the
    message had to cut it (it then goes along as a file), else None."""
    head = t("act.code_msg", service=catalog.service_name(a.service, t.lang),
             phone=phone_display(a.phone), code=cut(code.code, CODE_SHOWN))
    sms = (code.text or "").strip()
    if sms == code.code.strip():
        sms = ""
    cut_code = units(code.code) > CODE_SHOWN
    room = MESSAGE_LIMIT - visible_units(head) - _NOTE_ROOM
    if not sms:
        if not cut_code:
            return head, None
        return f"{head}\n{t('act.sms_in_file')}", code.code
    if units(sms) <= room and not cut_code:
        return f"{head}\n{t('act.sms_text', text=sms)}", None
    full = sms if not cut_code else f"{code.code}\n\n{sms}"
    return (f"{head}\n{t('act.sms_text', text=cut(sms, room))}\n{t('act.sms_in_file')}",
            full)


def code_text(a: Activation, code: Code, t: Translator, catalog: Catalog) -> str:
    return code_message(a, code, t, catalog)[0]


def code_plain(code: Code, t: Translator) -> str:
    """The least a code message can be, for when the full one was refused."""
    return t("act.code_plain", code=cut(code.code, CODE_SHOWN))


def merged_codes_markup(codes: Sequence[tuple[Activation, Code]],
                        t: Translator) -> InlineKeyboardMarkup:
    """Several codes in one message: a copy button for each, named by its number."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=t("merged.copy_code", phone=phone_display(a.phone)),
        copy_text=CopyTextButton(text=code.code[:256]))] for a, code in codes])


def code_markup(code: Code, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=t("act.btn.copy_code"), copy_text=CopyTextButton(text=code.code[:256]))]])
