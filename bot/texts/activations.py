"""Texts of activation cards and code messages: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    "act.title": ("{service} · {country}", "{service} · {country}"),
    "act.number": ("Number: <code>{phone}</code>", "Номер: <code>{phone}</code>"),
    "act.price": ("Price: {price}", "Цена: {price}"),
    "act.times_left": ("cancel in {cancel_in} · {left}", "отмена через {cancel_in} · {left}"),
    "act.ends_at": ("ends at {ends_at}", "до {ends_at}"),
    "act.left.minutes": ("{minutes} min left", "осталось {minutes} мин"),
    "act.left.under_minute": ("less than a minute left", "осталось меньше минуты"),
    "act.left.over": ("time is up", "время вышло"),
    "act.codes": ("Code: {codes}", "Код: {codes}"),
    "act.codes_many": ("Codes: {codes}", "Коды: {codes}"),
    "act.buyer": ("Bought by {buyer}", "Купил: {buyer}"),
    "act.will_cancel_in": ("⏰ I will cancel it in {cancel_in} unless a code comes first.",
                           "⏰ Отменю через {cancel_in}, если код не придёт раньше."),
    "act.will_cancel_now": ("⏰ Cancelling it now, as you asked.",
                            "⏰ Отменяю, как вы просили."),
    "act.state.waiting": ("⏳ Waiting for the SMS…", "⏳ Ждём СМС…"),
    "act.state.resend": ("⏳ Waiting: the service should re-send the SMS",
                         "⏳ Ждём: сервис должен отправить СМС повторно"),
    "act.state.received": ("✅ Code received", "✅ Код получен"),
    "act.state.retry": ("⏳ Waiting for another code…", "⏳ Ждём следующий код…"),
    "act.state.completed": ("☑️ Completed", "☑️ Завершена"),
    "act.state.cancelled": ("✖ Cancelled, {price} refunded", "✖ Отменена, {price} возвращено"),
    "act.state.expired": ("⌛ Ended with no code, {price} refunded",
                          "⌛ Закончилась без кода, {price} возвращено"),
    "act.state.cancel_unconfirmed": (
        "⌛ No code came in time. KoalaSMS has not confirmed the cancel yet; I keep trying "
        "and will tell you the outcome.",
        "⌛ Код не пришёл вовремя. KoalaSMS ещё не подтвердил отмену; я продолжаю пытаться "
        "и сообщу, чем закончится."),
    "act.state.provider_cancelled": ("✖ Cancelled by the provider",
                                     "✖ Отменена поставщиком"),
    "act.btn.copy_number": ("📋 Copy number", "📋 Копировать номер"),
    "act.btn.copy_code": ("📋 Copy code", "📋 Копировать код"),
    "act.btn.cancel": ("✖ Cancel", "✖ Отменить"),
    "act.btn.another": ("🔁 Another code", "🔁 Ещё код"),
    "act.btn.complete": ("✅ Complete", "✅ Завершить"),
    "act.btn.again": ("🛒 Buy again", "🛒 Купить ещё"),
    "act.code_msg": ("🔑 <b>{service}</b> · <code>{phone}</code>\nCode: <code>{code}</code>",
                     "🔑 <b>{service}</b> · <code>{phone}</code>\nКод: <code>{code}</code>"),
    "act.sms_text": ("<blockquote>{text}</blockquote>", "<blockquote>{text}</blockquote>"),
    # answers to button presses and notices
    "act.refunded": ("Cancelled. {price} refunded.", "Отменено. {price} возвращено."),
    "act.cancel_scheduled_in": (
        "Too early to cancel: the provider allows it in {cancel_in}. I will cancel then, "
        "unless a code comes first.",
        "Отменять пока рано: поставщик разрешит через {cancel_in}. Я отменю сам, если код "
        "не придёт.",
    ),
    "act.cancel_has_code": ("A code already came, so it can't be cancelled. Press Complete.",
                            "Код уже пришёл, отменить нельзя. Нажмите «Завершить»."),
    "act.already_final": ("This activation is already over.", "Эта активация уже закончилась."),
    "act.not_found": ("This activation is not in my records.",
                      "Этой активации нет в моих записях."),
    "act.retry_ok": ("Waiting for another code.", "Ждём следующий код."),
    "act.retry_unavailable": ("This number can't receive another code.",
                              "На этот номер нельзя получить ещё код."),
    "act.completed": ("Completed.", "Завершено."),
    "act.no_code_yet": ("No code yet: nothing to complete.", "Кода ещё нет: завершать нечего."),
    "act.failed": ("KoalaSMS refused: {text}. Nothing changed.",
                   "KoalaSMS отказал: {text}. Ничего не изменилось."),
    "act.transient": ("KoalaSMS is not answering. Nothing changed; try again in a moment.",
                      "KoalaSMS не отвечает. Ничего не изменилось, попробуйте чуть позже."),
    "act.notice.expired": ("⌛ {service} · <code>{phone}</code>: no code came in time. "
                           "I cancelled it and {price} was refunded.",
                           "⌛ {service} · <code>{phone}</code>: код не пришёл вовремя. "
                           "Я отменил активацию, {price} возвращено."),
    "act.notice.expired_unconfirmed": (
        "⌛ {service} · <code>{phone}</code> ended with no code. Your stored key could not be "
        "read, so I could not ask KoalaSMS to confirm; it refunds numbers that get no code. "
        "Send /key to set the key again.",
        "⌛ {service} · <code>{phone}</code> закончилась без кода. Сохранённый ключ не "
        "читается, поэтому подтвердить у KoalaSMS не удалось; номера без кода он возвращает "
        "сам. Отправьте /key, чтобы указать ключ снова.",
    ),
    "act.notice.cancelled": ("✖ {service} · <code>{phone}</code> cancelled as you asked; "
                             "{price} refunded.",
                             "✖ {service} · <code>{phone}</code> отменена, как вы просили; "
                             "{price} возвращено."),
    "act.notice.cancel_dropped": ("A code came before the cancel time, so I kept the number.",
                                  "Код пришёл раньше времени отмены, номер оставлен."),
    "act.notice.provider_cancelled": ("✖ {service} · <code>{phone}</code> was cancelled by "
                                      "the provider.",
                                      "✖ {service} · <code>{phone}</code> отменена поставщиком."),
    "act.active_none": ("No running activations. Send /buy to get a number.",
                        "Активных активаций нет. Отправьте /buy, чтобы купить номер."),
    "act.active_header": ("Running activations: {count}", "Активные активации: {count}"),
    "act.list.entry": ("{n}. <b>{service}</b> {flag} <code>{phone}</code>\n    {status}",
                       "{n}. <b>{service}</b> {flag} <code>{phone}</code>\n    {status}"),
    "act.list.waiting": ("⏳ waiting for the SMS", "⏳ ждём СМС"),
    "act.list.cancel_in": ("cancel in {cancel_in}", "отмена через {cancel_in}"),
    "act.list.has_code": ("✅ code received", "✅ код получен"),
    "act.list.cancelling": ("⌛ cancel not confirmed yet, retrying",
                            "⌛ отмена ещё не подтверждена, повторяю"),
    "act.list.more": ("…and {count} more, which end later.",
                      "…и ещё {count}, они закончатся позже."),
    "act.list.hint": ("Press a number to bring its card here.",
                      "Нажмите на номер, чтобы показать его карточку здесь."),
    "act.btn.show": ("{n}. {service} {phone}", "{n}. {service} {phone}"),
    "act.card_moved": ("{service} · <code>{phone}</code>: this card moved further down ↓",
                       "{service} · <code>{phone}</code>: карточка перенесена ниже ↓"),
    "act.shown_over": ("This activation is over; its card is up to date.",
                       "Эта активация закончилась; карточка обновлена."),
    # The provider no longer knows an activation (NO_ACTIVATION): never "refunded".
    "act.state.unknown": ("❔ Ended on KoalaSMS's side; no refund confirmed",
                          "❔ Закончилась на стороне KoalaSMS; возврат не подтверждён"),
    "act.gone_completed": (
        "KoalaSMS had already completed this activation, so nothing was cancelled or "
        "refunded. Its code is in the chat.",
        "KoalaSMS уже завершил эту активацию, поэтому ничего не отменено и не возвращено. "
        "Код — в чате.",
    ),
    "act.gone_unknown": (
        "KoalaSMS no longer knows this activation, so nothing was cancelled and I can't "
        "confirm a refund. Check /balance.",
        "KoalaSMS больше не знает эту активацию: ничего не отменено, подтвердить возврат "
        "не могу. Проверьте /balance.",
    ),
    "act.notice.completed_by_provider": (
        "☑️ {service} · <code>{phone}</code> was completed on KoalaSMS's side; its code is "
        "above. Nothing was refunded.",
        "☑️ {service} · <code>{phone}</code> завершена на стороне KoalaSMS, код — выше. "
        "Деньги не возвращались.",
    ),
    "act.notice.unknown": (
        "❔ {service} · <code>{phone}</code>: KoalaSMS no longer knows this activation and "
        "shows no code for it. I can't confirm a refund of {price}: check /balance "
        "(KoalaSMS refunds numbers that get no code).",
        "❔ {service} · <code>{phone}</code>: KoalaSMS больше не знает эту активацию, кода "
        "по ней нет. Возврат {price} подтвердить не могу: проверьте /balance (номера без "
        "кода KoalaSMS возвращает сам).",
    ),
    "act.notice.expired_elsewhere": (
        "⌛ {service} · <code>{phone}</code>: no code came in time. KoalaSMS had already "
        "ended it and {price} was refunded.",
        "⌛ {service} · <code>{phone}</code>: код не пришёл вовремя. KoalaSMS уже закрыл "
        "активацию, {price} возвращено.",
    ),
}
TEXTS.update({
    "act.sms_in_file": ("📄 The SMS is too long for one message: the whole of it is in the "
                        "file below.",
                        "📄 СМС слишком длинное для одного сообщения: полностью оно в файле "
                        "ниже."),
    "act.sms_file_caption": ("Full SMS text", "Полный текст СМС"),
    "act.code_plain": ("🔑 Code: <code>{code}</code>", "🔑 Код: <code>{code}</code>"),
})
