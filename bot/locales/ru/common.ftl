### Texts shared by every area.
start-hello = Привет! Я покупаю временные номера в KoalaSMS и присылаю код из СМС сюда.
common-back = « Назад
common-close = ✖ Закрыть
common-cancelled = Отменено. Отправьте /buy, чтобы начать заново.
common-nothing_to_cancel = Отменять нечего.
common-not_yours = Эта кнопка не ваша.
common-stale = Эта кнопка устарела. Отправьте /buy или /active.
common-error = У нас что-то пошло не так. Деньги не списаны, попробуйте ещё раз.
common-provider_down = KoalaSMS сейчас не отвечает. Деньги не списаны. Попробуйте через минуту.
common-try_again = 🔄 Повторить
common-no_key = У вас ещё нет API-ключа KoalaSMS. Отправьте /key, чтобы его указать.
common-set_key_button = 🔑 Указать API-ключ
common-bad_key = KoalaSMS больше не принимает ваш API-ключ. Отправьте /key, чтобы указать новый.
common-banned = Ваш аккаунт KoalaSMS заблокирован до { $until }.
common-region = KoalaSMS не принимает запросы из региона этого сервера. Владельцу бота нужно сменить IP.
common-provider_error = KoalaSMS ответил: <code>{ $text }</code>
common-key_unreadable = Сохранённый API-ключ больше не читается (у бота сменился секрет). Отправьте /key, чтобы указать его снова.
common-unknown_message = Я не понял. Напишите часть названия сервиса, чтобы найти его, отправьте /buy для меню или /help.
common-page = Стр. { $page }/{ $pages }
common-prev = ◀
common-next = ▶

## start / help (owned by the start area)
start-about = Выберите сервис и страну, подтвердите цену — код придёт сюда сам. Нет кода — номер отменяется, а деньги возвращаются на баланс.
start-need_key = Для начала укажите ваш API-ключ KoalaSMS.
start-balance = 💰 Баланс: { $balance }
start-buy_button = 🛒 Купить номер
start-buy_service = Купить номер для <b>{ $service }</b>?
start-buy_service_button = 🛒 Купить { $service }
start-key_link = Ради безопасности я не принимаю API-ключ из ссылки. Отправьте /key и вставьте ключ.
start-group_link_later = Подключение группы пока недоступно, извините. Покупать номера здесь, в личном чате, уже можно.
start-group = Администраторы подключают аккаунт KoalaSMS группы командой /setkey; для своего аккаунта откройте личный чат со мной.
start-help =
    <b>Как мной пользоваться</b>
    /buy — выберите сервис и страну, подтвердите цену; я куплю номер.
    Код придёт сюда сам, обычно за минуту-две.
    /active — текущие номера, с кнопками Отменить / Ещё код / Завершить.
    /balance — баланс KoalaSMS · /history — прошлые номера и расходы.
    /key — указать или сменить API-ключ · /settings — язык, часовой пояс, страна, избранное.
    /cancel — выйти из текущего меню.

    <b>Возвраты</b>: отмените номер без кода (можно через короткое время) или дождитесь окончания — цена вернётся на баланс. Если код пришёл, номер оплачен.
common-not_text = Я читаю только текст. Напишите часть названия сервиса, чтобы найти его, или отправьте /buy или /help.
