### Texts of the settings area.
settings-title =
    ⚙️ <b>Настройки</b>
    Язык: { $lang }
    Часовой пояс: { $tz } (сейчас { $now })
    Страна по умолчанию: { $country }
    Избранное: { $favs }
settings-lang_name = Русский
settings-country_none = не задана
settings-btn-lang = 🌐 Язык
settings-btn-tz = 🕒 Часовой пояс
settings-btn-country = 🌍 Страна по умолчанию
settings-btn-favs = ⭐ Избранное
settings-btn-tz_other = ✏️ Другой (ввести)
settings-btn-country_search = 🔎 Ввести название
settings-btn-country_clear = 🚫 Не задавать
settings-lang_pick = Выберите язык:
settings-tz_pick = Выберите часовой пояс (смещение от UTC). Сейчас: { $tz }.
settings-tz_prompt = Пришлите смещение от UTC, например <code>+3</code>, <code>-4:30</code> или <code>+5:45</code>. /cancel — отмена.
settings-tz_bad = Не понимаю это смещение. Пришлите как <code>+3</code> или <code>-4:30</code> (от -12 до +14) или /cancel.
settings-tz_set = Часовой пояс: { $tz }
settings-country_pick = Страна по умолчанию для покупок (сейчас: { $country }). Выберите или напишите название:
settings-country_prompt = Пришлите название страны (по-русски или по-английски) или <code>нет</code>, чтобы сбросить. /cancel — отмена.
settings-country_none_found = Страны «{ $query }» не нашлось. Попробуйте другое название или /cancel.
settings-country_many = Подходит несколько стран для «{ $query }», выберите:
settings-country_set = Страна по умолчанию: { $country }
settings-favs_title = ⭐ <b>Избранное</b> ({ $count }). Нажмите ✖, чтобы убрать.
settings-favs_empty = Избранного пока нет. Добавляйте сервисы кнопкой ☆ в меню /buy.
settings-fav_removed = { $service } убран из избранного.
settings-closed = Настройки закрыты.
settings-send_text = Пришлите текстом или /cancel.

## language picker: each language is named in itself, whatever the reader's language
settings-lang_name-en = 🇬🇧 English
settings-lang_name-ru = 🇷🇺 Русский
settings-tz_kept = Часовой пояс не изменён: по-прежнему { $tz }.
settings-country_kept = Страна по умолчанию не изменена: { $country }.
