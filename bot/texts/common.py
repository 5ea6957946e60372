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
    "common.page": ("Page {page}/{pages}", "Стр. {page}/{pages}"),
    "common.prev": ("◀", "◀"),
    "common.next": ("▶", "▶"),
}
