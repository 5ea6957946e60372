### Texts of activation cards and code messages.
act-title = { $service } · { $country }
act-number = Номер: <code>{ $phone }</code>
act-price = Цена: { $price }
act-times_left = отмена через { $cancel_in } · { $left }
act-ends_at = до { $ends_at }
act-left-minutes = осталось { $minutes } мин
act-left-under_minute = осталось меньше минуты
act-left-over = время вышло
act-codes = Код: { $codes }
act-codes_many = Коды: { $codes }
act-buyer = Купил: { $buyer }
act-will_cancel_in = ⏰ Отменю через { $cancel_in }, если код не придёт раньше.
act-will_cancel_now = ⏰ Отменяю, как вы просили.
act-state-waiting = ⏳ Ждём СМС…
act-state-resend = ⏳ Ждём: сервис должен отправить СМС повторно
act-state-received = ✅ Код получен
act-state-retry = ⏳ Ждём следующий код…
act-state-completed = ☑️ Завершена
act-state-cancelled = ✖ Отменена, { $price } возвращено
act-state-expired = ⌛ Закончилась без кода, { $price } возвращено
act-state-cancel_unconfirmed = ⌛ Код не пришёл вовремя. KoalaSMS ещё не подтвердил отмену; я продолжаю пытаться и сообщу, чем закончится.
act-state-provider_cancelled = ✖ Отменена поставщиком
act-btn-copy_number = 📋 Копировать номер
act-btn-copy_code = 📋 Копировать код
act-btn-cancel = ✖ Отменить
act-btn-another = 🔁 Ещё код
act-btn-complete = ✅ Завершить
act-btn-again = 🛒 Купить ещё
act-code_msg =
    🔑 <b>{ $service }</b> · <code>{ $phone }</code>
    Код: <code>{ $code }</code>
act-sms_text = <blockquote>{ $text }</blockquote>

## answers to button presses and notices
act-refunded = Отменено. { $price } возвращено.
act-cancel_scheduled_in = Отменять пока рано: поставщик разрешит через { $cancel_in }. Я отменю сам, если код не придёт.
act-cancel_has_code = Код уже пришёл, отменить нельзя. Нажмите «Завершить».
act-already_final = Эта активация уже закончилась.
act-not_found = Этой активации нет в моих записях.
act-retry_ok = Ждём следующий код.
act-retry_unavailable = На этот номер нельзя получить ещё код.
act-completed = Завершено.
act-no_code_yet = Кода ещё нет: завершать нечего.
act-failed = KoalaSMS отказал: { $text }. Ничего не изменилось.
act-transient = KoalaSMS не отвечает. Ничего не изменилось, попробуйте чуть позже.
act-notice-expired = ⌛ { $service } · <code>{ $phone }</code>: код не пришёл вовремя. Я отменил активацию, { $price } возвращено.
act-notice-expired_unconfirmed = ⌛ { $service } · <code>{ $phone }</code> закончилась без кода. Сохранённый ключ не читается, поэтому подтвердить у KoalaSMS не удалось; номера без кода он возвращает сам. Отправьте /key, чтобы указать ключ снова.
act-notice-cancelled = ✖ { $service } · <code>{ $phone }</code> отменена, как вы просили; { $price } возвращено.
act-notice-cancel_dropped = Код пришёл раньше времени отмены, номер оставлен.
act-notice-provider_cancelled = ✖ { $service } · <code>{ $phone }</code> отменена поставщиком.
act-active_none = Активных активаций нет. Отправьте /buy, чтобы купить номер.
act-active_header = Активные активации: { $count }
act-list-entry =
    { $n }. <b>{ $service }</b> { $flag } <code>{ $phone }</code>
    {"    "}{ $status }
act-list-waiting = ⏳ ждём СМС
act-list-cancel_in = отмена через { $cancel_in }
act-list-has_code = ✅ код получен
act-list-cancelling = ⌛ отмена ещё не подтверждена, повторяю
act-list-more = …и ещё { $count }, они закончатся позже.
act-list-hint = Нажмите на номер, чтобы показать его карточку здесь.
act-btn-show = { $n }. { $service } { $phone }
act-card_moved = { $service } · <code>{ $phone }</code>: карточка перенесена ниже ↓
act-shown_over = Эта активация закончилась; карточка обновлена.

## The provider no longer knows an activation (NO_ACTIVATION): never "refunded".
act-state-unknown = ❔ Закончилась на стороне KoalaSMS; возврат не подтверждён
act-gone_completed = KoalaSMS уже завершил эту активацию, поэтому ничего не отменено и не возвращено. Код — в чате.
act-gone_unknown = KoalaSMS больше не знает эту активацию: ничего не отменено, подтвердить возврат не могу. Проверьте /balance.
act-notice-completed_by_provider = ☑️ { $service } · <code>{ $phone }</code> завершена на стороне KoalaSMS, код — выше. Деньги не возвращались.
act-notice-unknown = ❔ { $service } · <code>{ $phone }</code>: KoalaSMS больше не знает эту активацию, кода по ней нет. Возврат { $price } подтвердить не могу: проверьте /balance (номера без кода KoalaSMS возвращает сам).
act-notice-expired_elsewhere = ⌛ { $service } · <code>{ $phone }</code>: код не пришёл вовремя. KoalaSMS уже закрыл активацию, { $price } возвращено.
act-sms_in_file = 📄 СМС слишком длинное для одного сообщения: полностью оно в файле ниже.
act-sms_file_caption = Полный текст СМС
act-code_plain = 🔑 Код: <code>{ $code }</code>
