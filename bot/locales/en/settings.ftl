### Texts of the settings area.
settings-title =
    ⚙️ <b>Settings</b>
    Language: { $lang }
    Time zone: { $tz } (now { $now })
    Default country: { $country }
    Favourites: { $favs }
settings-lang_name = English
settings-country_none = not set
settings-btn-lang = 🌐 Language
settings-btn-tz = 🕒 Time zone
settings-btn-country = 🌍 Default country
settings-btn-favs = ⭐ Favourites
settings-btn-tz_other = ✏️ Other (type it)
settings-btn-country_search = 🔎 Type a name
settings-btn-country_clear = 🚫 None
settings-lang_pick = Choose the language:
settings-tz_pick = Choose your time zone (UTC offset). Now it is { $tz }.
settings-tz_prompt = Send your UTC offset, for example <code>+3</code>, <code>-4:30</code> or <code>+5:45</code>. /cancel to stop.
settings-tz_bad = I don't understand that offset. Send it like <code>+3</code> or <code>-4:30</code> (from -12 to +14), or /cancel.
settings-tz_set = Time zone set: { $tz }
settings-country_pick = Default country for buying (now: { $country }). Pick one, or type its name:
settings-country_prompt = Send the country's name (in English or Russian), or <code>none</code> to clear it. /cancel to stop.
settings-country_none_found = No country matches “{ $query }”. Try another name, or /cancel.
settings-country_many = Several countries match “{ $query }”, pick one:
settings-country_set = Default country: { $country }
settings-favs_title = ⭐ <b>Favourites</b> ({ $count }). Press ✖ to remove one.
settings-favs_empty = You have no favourites yet. Add them with ☆ in the /buy menu.
settings-fav_removed = Removed { $service } from favourites.
settings-closed = Settings closed.
settings-send_text = Please send it as text, or /cancel.

## language picker: each language is named in itself, whatever the reader's language
settings-lang_name-en = 🇬🇧 English
settings-lang_name-ru = 🇷🇺 Русский
settings-tz_kept = Time zone not changed: still { $tz }.
settings-country_kept = Default country not changed: { $country }.
