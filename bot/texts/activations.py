"""Texts of activation cards and code messages: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    "act.title": ("{service} · {country}", "{service} · {country}"),
    "act.number": ("Number: <code>{phone}</code>", "Номер: <code>{phone}</code>"),
    "act.price": ("Price: {price}", "Цена: {price}"),
    "act.times": ("Cancel possible from {cancel_at} · ends at {ends_at}",
                  "Отмена возможна с {cancel_at} · до {ends_at}"),
    "act.ends": ("Ends at {ends_at}", "Действует до {ends_at}"),
    "act.codes": ("Code: {codes}", "Код: {codes}"),
    "act.codes_many": ("Codes: {codes}", "Коды: {codes}"),
    "act.buyer": ("Bought by {buyer}", "Купил: {buyer}"),
    "act.will_cancel": ("⏰ Will cancel at {at} unless a code comes first.",
                        "⏰ Отменю в {at}, если код не придёт раньше."),
    "act.state.waiting": ("⏳ Waiting for the SMS…", "⏳ Ждём СМС…"),
    "act.state.resend": ("⏳ Waiting: the service should re-send the SMS",
                         "⏳ Ждём: сервис должен отправить СМС повторно"),
    "act.state.received": ("✅ Code received", "✅ Код получен"),
    "act.state.retry": ("⏳ Waiting for another code…", "⏳ Ждём следующий код…"),
    "act.state.completed": ("☑️ Completed", "☑️ Завершена"),
    "act.state.cancelled": ("✖ Cancelled, {price} refunded", "✖ Отменена, {price} возвращено"),
    "act.state.expired": ("⌛ Ended with no code, {price} refunded",
                          "⌛ Закончилась без кода, {price} возвращено"),
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
    "act.cancel_scheduled": (
        "Too early to cancel: the provider allows it from {at}. I will cancel then, "
        "unless a code comes first.",
        "Отменять пока рано: поставщик разрешает с {at}. Я отменю сам, если код не придёт.",
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
}
TEXTS.update({
    "act.sms_in_file": ("📄 The SMS is too long for one message: the whole of it is in the "
                        "file below.",
                        "📄 СМС слишком длинное для одного сообщения: полностью оно в файле "
                        "ниже."),
    "act.sms_file_caption": ("Full SMS text", "Полный текст СМС"),
    "act.code_plain": ("🔑 Code: <code>{code}</code>", "🔑 Код: <code>{code}</code>"),
})
