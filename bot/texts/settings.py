"""Texts of the settings area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    "settings.title": (
        "⚙️ <b>Settings</b>\nLanguage: {lang}\nTime zone: {tz} (now {now})\n"
        "Default country: {country}\nFavourites: {favs}",
        "⚙️ <b>Настройки</b>\nЯзык: {lang}\nЧасовой пояс: {tz} (сейчас {now})\n"
        "Страна по умолчанию: {country}\nИзбранное: {favs}",
    ),
    "settings.lang_name": ("English", "Русский"),
    "settings.country_none": ("not set", "не задана"),
    "settings.btn.lang": ("🌐 Language", "🌐 Язык"),
    "settings.btn.tz": ("🕒 Time zone", "🕒 Часовой пояс"),
    "settings.btn.country": ("🌍 Default country", "🌍 Страна по умолчанию"),
    "settings.btn.favs": ("⭐ Favourites", "⭐ Избранное"),
    "settings.btn.tz_other": ("✏️ Other (type it)", "✏️ Другой (ввести)"),
    "settings.btn.country_search": ("🔎 Type a name", "🔎 Ввести название"),
    "settings.btn.country_clear": ("🚫 None", "🚫 Не задавать"),
    "settings.lang_pick": ("Choose the language:", "Выберите язык:"),
    "settings.tz_pick": (
        "Choose your time zone (UTC offset). Now it is {tz}.",
        "Выберите часовой пояс (смещение от UTC). Сейчас: {tz}.",
    ),
    "settings.tz_prompt": (
        "Send your UTC offset, for example <code>+3</code>, <code>-4:30</code> or "
        "<code>+5:45</code>. /cancel to stop.",
        "Пришлите смещение от UTC, например <code>+3</code>, <code>-4:30</code> или "
        "<code>+5:45</code>. /cancel — отмена.",
    ),
    "settings.tz_bad": (
        "I don't understand that offset. Send it like <code>+3</code> or <code>-4:30</code> "
        "(from -12 to +14), or /cancel.",
        "Не понимаю это смещение. Пришлите как <code>+3</code> или <code>-4:30</code> "
        "(от -12 до +14) или /cancel.",
    ),
    "settings.tz_set": ("Time zone set: {tz}", "Часовой пояс: {tz}"),
    "settings.country_pick": (
        "Default country for buying (now: {country}). Pick one, or type its name:",
        "Страна по умолчанию для покупок (сейчас: {country}). Выберите или напишите "
        "название:",
    ),
    "settings.country_prompt": (
        "Send the country's name (in English or Russian), or <code>none</code> to clear it. "
        "/cancel to stop.",
        "Пришлите название страны (по-русски или по-английски) или <code>нет</code>, "
        "чтобы сбросить. /cancel — отмена.",
    ),
    "settings.country_none_found": (
        "No country matches “{query}”. Try another name, or /cancel.",
        "Страны «{query}» не нашлось. Попробуйте другое название или /cancel.",
    ),
    "settings.country_many": ("Several countries match “{query}”, pick one:",
                              "Подходит несколько стран для «{query}», выберите:"),
    "settings.country_set": ("Default country: {country}", "Страна по умолчанию: {country}"),
    "settings.favs_title": ("⭐ <b>Favourites</b> ({count}). Press ✖ to remove one.",
                            "⭐ <b>Избранное</b> ({count}). Нажмите ✖, чтобы убрать."),
    "settings.favs_empty": (
        "You have no favourites yet. Add them with ☆ in the /buy menu.",
        "Избранного пока нет. Добавляйте сервисы кнопкой ☆ в меню /buy.",
    ),
    "settings.fav_removed": ("Removed {service} from favourites.",
                             "{service} убран из избранного."),
    "settings.tz_kept": ("Time zone not changed: still {tz}.",
                         "Часовой пояс не изменён: по-прежнему {tz}."),
    "settings.country_kept": ("Default country not changed: {country}.",
                              "Страна по умолчанию не изменена: {country}."),
    "settings.closed": ("Settings closed.", "Настройки закрыты."),
    "settings.send_text": ("Please send it as text, or /cancel.",
                           "Пришлите текстом или /cancel."),
}
