"""Texts shared by every area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    "start.hello": ("Hi! I buy temporary numbers on KoalaSMS and bring the SMS code here.",
                    "Привет! Я покупаю временные номера в KoalaSMS и присылаю код из СМС сюда."),
    "common.back": ("« Back", "« Назад"),
    "common.close": ("✖ Close", "✖ Закрыть"),
    "common.cancelled": ("Cancelled. Send /buy to start again.",
                         "Отменено. Отправьте /buy, чтобы начать заново."),
    "common.nothing_to_cancel": ("Nothing to cancel.", "Отменять нечего."),
    "common.not_yours": ("This button is not yours.", "Эта кнопка не ваша."),
    "common.stale": ("This button is out of date. Send /buy or /active.",
                     "Эта кнопка устарела. Отправьте /buy или /active."),
    "common.error": ("Something went wrong on our side. Nothing was charged; please try again.",
                     "У нас что-то пошло не так. Деньги не списаны, попробуйте ещё раз."),
    "common.provider_down": (
        "KoalaSMS is not answering right now. Nothing was charged. Try again in a minute.",
        "KoalaSMS сейчас не отвечает. Деньги не списаны. Попробуйте через минуту.",
    ),
    "common.try_again": ("🔄 Try again", "🔄 Повторить"),
    "common.no_key": ("You have no KoalaSMS API key yet. Send /key to set it.",
                      "У вас ещё нет API-ключа KoalaSMS. Отправьте /key, чтобы его указать."),
    "common.set_key_button": ("🔑 Set API key", "🔑 Указать API-ключ"),
    "common.bad_key": (
        "KoalaSMS does not accept your API key any more. Send /key to set a new one.",
        "KoalaSMS больше не принимает ваш API-ключ. Отправьте /key, чтобы указать новый.",
    ),
    "common.banned": ("Your KoalaSMS account is blocked until {until}.",
                      "Ваш аккаунт KoalaSMS заблокирован до {until}."),
    "common.region": (
        "KoalaSMS refuses requests from this server's region. The bot's operator must "
        "change its IP.",
        "KoalaSMS не принимает запросы из региона этого сервера. Владельцу бота нужно "
        "сменить IP.",
    ),
    "common.provider_error": ("KoalaSMS answered: <code>{text}</code>",
                              "KoalaSMS ответил: <code>{text}</code>"),
    "common.key_unreadable": (
        "Your stored API key can no longer be read (the bot's secret changed). "
        "Please send /key to set it again.",
        "Сохранённый API-ключ больше не читается (у бота сменился секрет). "
        "Отправьте /key, чтобы указать его снова.",
    ),
    "common.unknown_message": (
        "I didn't understand that. Type part of a service name to find it, send /buy for "
        "the menu, or /help.",
        "Я не понял. Напишите часть названия сервиса, чтобы найти его, отправьте /buy "
        "для меню или /help.",
    ),
    "common.page": ("Page {page}/{pages}", "Стр. {page}/{pages}"),
    "common.prev": ("◀", "◀"),
    "common.next": ("▶", "▶"),
    # --- start / help (owned by the start area) ---------------------------------------
    "start.about": (
        "Pick a service and a country, confirm the price, and the code comes here by itself. "
        "No code — the number is cancelled and the money goes back to your balance.",
        "Выберите сервис и страну, подтвердите цену — код придёт сюда сам. "
        "Нет кода — номер отменяется, а деньги возвращаются на баланс.",
    ),
    "start.need_key": ("To begin, set your KoalaSMS API key.",
                       "Для начала укажите ваш API-ключ KoalaSMS."),
    "start.balance": ("💰 Balance: {balance}", "💰 Баланс: {balance}"),
    "start.buy_button": ("🛒 Buy a number", "🛒 Купить номер"),
    "start.buy_service": ("Buy a number for <b>{service}</b>?",
                          "Купить номер для <b>{service}</b>?"),
    "start.buy_service_button": ("🛒 Buy {service}", "🛒 Купить {service}"),
    "start.key_link": (
        "For safety I never take an API key from a link. Send /key here and paste your key.",
        "Ради безопасности я не принимаю API-ключ из ссылки. Отправьте /key и вставьте ключ.",
    ),
    "start.group_link_later": (
        "Linking a group is not available yet, sorry. You can already buy numbers here in "
        "private chat.",
        "Подключение группы пока недоступно, извините. Покупать номера здесь, в личном чате, "
        "уже можно.",
    ),
    "start.group": ("Open a private chat with me to set your API key and buy numbers.",
                    "Откройте личный чат со мной, чтобы указать API-ключ и покупать номера."),
    "start.help": (
        "<b>How to use me</b>\n"
        "/buy — choose a service and a country, confirm the price; I buy a number.\n"
        "The code arrives here by itself, usually within a minute or two.\n"
        "/active — running numbers, with Cancel / Another code / Complete.\n"
        "/balance — your KoalaSMS balance · /history — past numbers and spending.\n"
        "/key — set or change your API key · /settings — language, time zone, country, "
        "favourites.\n/cancel — leave the current menu.\n\n"
        "<b>Refunds</b>: cancel a number with no code (allowed after a short wait) or let it "
        "run out — the price goes back to your balance. Once a code has come, the number is "
        "paid.",
        "<b>Как мной пользоваться</b>\n"
        "/buy — выберите сервис и страну, подтвердите цену; я куплю номер.\n"
        "Код придёт сюда сам, обычно за минуту-две.\n"
        "/active — текущие номера, с кнопками Отменить / Ещё код / Завершить.\n"
        "/balance — баланс KoalaSMS · /history — прошлые номера и расходы.\n"
        "/key — указать или сменить API-ключ · /settings — язык, часовой пояс, страна, "
        "избранное.\n/cancel — выйти из текущего меню.\n\n"
        "<b>Возвраты</b>: отмените номер без кода (можно через короткое время) или дождитесь "
        "окончания — цена вернётся на баланс. Если код пришёл, номер оплачен.",
    ),
}
TEXTS.update({
    "common.not_text": (
        "I read text only. Type part of a service name to find it, or send /buy or /help.",
        "Я читаю только текст. Напишите часть названия сервиса, чтобы найти его, или "
        "отправьте /buy или /help.",
    ),
})
