"""Pure rendering of activation cards and code messages (text + keyboard)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.limits import MESSAGE_LIMIT, cut, units, visible_units
from bot.texts import Raw, Translator, esc
from handlers.callbacks import ActCb
from storage.models import Activation, Code, User
from storage.states import ActivationState

CURRENCY_SIGNS = {643: "₽", 840: "$", 978: "€", 156: "¥", 826: "£"}

# A code is a few characters; a provider may still send a whole sentence as the "code".
# Lists (cards, history) show this much of each, the code message more; nothing is lost:
# the copy button and the file carry the rest.
CODE_IN_LIST = 64
CODE_SHOWN = 512
_NOTE_ROOM = 200  # room kept in a code message for the line that points to the file

# Without a time-zone setting, Russian speakers most likely live on Moscow time.
_DEFAULT_OFFSET = {"ru": 180}


def money(amount: float | None, currency: int | None = None) -> str:
    if amount is None:
        return "?"
    text = f"{amount:.2f}" if amount >= 0.1 or amount == 0 else f"{amount:.4f}".rstrip("0")
    sign = CURRENCY_SIGNS.get(currency or 0)
    return f"{text} {sign}" if sign else text


def user_tz(user: User | None) -> timezone:
    if user is None:
        return UTC
    minutes = user.tz_offset_minutes
    if minutes is None:
        minutes = _DEFAULT_OFFSET.get(user.language or "", 0)
    return timezone(timedelta(minutes=minutes))


def clock(moment: datetime, tz: timezone) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%H:%M")


def phone_display(phone: str) -> str:
    return phone if phone.startswith("+") else f"+{phone}"


def _state_line(a: Activation, t: Translator) -> str:
    state = ActivationState(a.state)
    price = money(a.cost, a.currency)
    if state == ActivationState.WAITING:
        return t("act.state.resend") if a.resend_requested else t("act.state.waiting")
    return t(f"act.state.{state.value}", price=price)


def card_text(a: Activation, codes: list[Code], t: Translator, catalog: Catalog,
              tz: timezone, *, buyer: str | None = None) -> str:
    state = ActivationState(a.state)
    lines = [
        "<b>" + t("act.title", service=catalog.service_name(a.service),
                  country=catalog.country_label(a.country, t.lang)) + "</b>",
        t("act.number", phone=phone_display(a.phone)),
        t("act.price", price=money(a.cost, a.currency)),
    ]
    if buyer:
        lines.append(t("act.buyer", buyer=buyer))
    if codes:
        shown = ", ".join(f"<code>{esc(cut(c.code, CODE_IN_LIST))}</code>" for c in codes)
        lines.append(t("act.codes" if len(codes) == 1 else "act.codes_many", codes=Raw(shown)))
    if state == ActivationState.WAITING:
        lines.append(t("act.times", cancel_at=clock(a.cancel_at, tz), ends_at=clock(a.ends_at, tz)))
    elif not state.is_final:
        lines.append(t("act.ends", ends_at=clock(a.ends_at, tz)))
    lines.append("")
    lines.append(_state_line(a, t))
    if a.cancel_requested and state == ActivationState.WAITING:
        lines.append(t("act.will_cancel", at=clock(a.cancel_at, tz)))
    return "\n".join(lines)


def card_markup(a: Activation, t: Translator) -> InlineKeyboardMarkup:
    assert a.id is not None
    state = ActivationState(a.state)
    rows: list[list[InlineKeyboardButton]] = []
    if not state.is_final:
        rows.append([InlineKeyboardButton(text=t("act.btn.copy_number"),
                                          copy_text=CopyTextButton(text=phone_display(a.phone)))])
    if state == ActivationState.WAITING and not a.cancel_requested:
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
    head = t("act.code_msg", service=catalog.service_name(a.service),
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


def code_markup(code: Code, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=t("act.btn.copy_code"), copy_text=CopyTextButton(text=code.code[:256]))]])
