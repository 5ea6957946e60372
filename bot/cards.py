"""Pure rendering of activation cards and code messages (text + keyboard)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.money import money
from bot.texts import Raw, Translator, esc
from handlers.callbacks import ActCb
from storage.models import Activation, Code, User
from storage.states import ActivationState

# Without a time-zone setting, Russian speakers most likely live on Moscow time.
_DEFAULT_OFFSET = {"ru": 180}


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
        "<b>" + t("act.title", service=catalog.service_name(a.service, t.lang),
                  country=catalog.country_label(a.country, t.lang)) + "</b>",
        t("act.number", phone=phone_display(a.phone)),
        t("act.price", price=money(a.cost, a.currency)),
    ]
    if buyer:
        lines.append(t("act.buyer", buyer=buyer))
    if codes:
        shown = ", ".join(f"<code>{esc(c.code)}</code>" for c in codes)
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


def code_text(a: Activation, code: Code, t: Translator, catalog: Catalog) -> str:
    text = t("act.code_msg", service=catalog.service_name(a.service, t.lang),
             phone=phone_display(a.phone), code=code.code)
    if code.text and code.text.strip() != code.code:
        text += "\n" + t("act.sms_text", text=code.text.strip()[:3500])
    return text


def code_markup(code: Code, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=t("act.btn.copy_code"), copy_text=CopyTextButton(text=code.code[:256]))]])
