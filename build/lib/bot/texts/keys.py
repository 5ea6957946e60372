"""Texts of the keys area (API key, balance): key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    "keys.prompt": (
        "Send me your KoalaSMS API key (Profile → API on koalasms.com).\n"
        "I delete your message as soon as I have read it, and store the key encrypted.",
        "Пришлите мне ваш API-ключ KoalaSMS (Профиль → API на koalasms.com).\n"
        "Я удалю ваше сообщение сразу после прочтения и сохраню ключ в зашифрованном виде.",
    ),
    "keys.current": ("Your API key: <code>{hint}</code>\nWhat do you want to do?",
                     "Ваш API-ключ: <code>{hint}</code>\nЧто сделать?"),
    "keys.saved": ("✅ Key saved: <code>{hint}</code>\nBalance: {balance}",
                   "✅ Ключ сохранён: <code>{hint}</code>\nБаланс: {balance}"),
    "keys.invalid_format": (
        "That does not look like an API key: a key is one word of 16–128 letters, digits, "
        "“-” or “_”. Nothing was saved. Send the key again, or /cancel.",
        "Это не похоже на API-ключ: ключ — одно слово из 16–128 букв, цифр, «-» или «_». "
        "Ничего не сохранено. Пришлите ключ ещё раз или /cancel.",
    ),
    "keys.rejected": (
        "❌ KoalaSMS does not accept this key. Nothing was saved. Check it on koalasms.com "
        "and send it again, or /cancel.",
        "❌ KoalaSMS не принимает этот ключ. Ничего не сохранено. Проверьте его на koalasms.com "
        "и пришлите снова или /cancel.",
    ),
    "keys.cant_check": (
        "KoalaSMS is not answering, so I can't check the key now. Nothing was saved. "
        "Try again in a minute with /key.",
        "KoalaSMS не отвечает, поэтому проверить ключ сейчас нельзя. Ничего не сохранено. "
        "Попробуйте через минуту: /key.",
    ),
    "keys.not_saved": ("Nothing was saved.", "Ничего не сохранено."),
    "keys.send_text": ("Please send the key as a text message, or /cancel.",
                       "Пришлите ключ текстовым сообщением или /cancel."),
    "keys.remove_confirm": (
        "Remove the key <code>{hint}</code>? Running activations still finish, but you "
        "can't buy until you set a key again.",
        "Удалить ключ <code>{hint}</code>? Текущие активации завершатся, но покупать "
        "нельзя, пока вы не укажете ключ снова.",
    ),
    "keys.removed": ("🗑 Key removed.", "🗑 Ключ удалён."),
    "keys.kept": ("Key kept: <code>{hint}</code>", "Ключ оставлен: <code>{hint}</code>"),
    "keys.no_key_to_remove": ("There is no key to remove.", "Удалять нечего: ключа нет."),
    "keys.group_private": (
        "For safety, API keys are set only in a private chat with me: open me and send /key. "
        "Using a key for a group comes later.",
        "Ради безопасности API-ключ указывается только в личном чате со мной: откройте меня "
        "и отправьте /key. Ключ для группы появится позже.",
    ),
    "keys.group_deleted": (
        "I deleted a message that looked like an API key: never post keys in a group. "
        "If it was a real key, consider it exposed and create a new one on koalasms.com.",
        "Я удалил сообщение, похожее на API-ключ: не публикуйте ключи в группе. "
        "Если это был настоящий ключ, считайте его раскрытым и создайте новый на koalasms.com.",
    ),
    "keys.looks_like_key": (
        "That looks like an API key, so I deleted it. To replace your key "
        "<code>{hint}</code>, send /key.",
        "Это похоже на API-ключ, поэтому я удалил сообщение. Чтобы заменить ключ "
        "<code>{hint}</code>, отправьте /key.",
    ),
    "keys.balance": ("💰 Balance: {balance}\nKey: <code>{hint}</code>",
                     "💰 Баланс: {balance}\nКлюч: <code>{hint}</code>"),
    "keys.cancelled": ("Cancelled. Nothing was changed.", "Отменено. Ничего не изменено."),
    "keys.btn.replace": ("🔁 Replace", "🔁 Заменить"),
    "keys.btn.remove": ("🗑 Remove", "🗑 Удалить"),
    "keys.btn.keep": ("Keep", "Оставить"),
    "keys.btn.remove_yes": ("🗑 Yes, remove", "🗑 Да, удалить"),
    "keys.btn.cancel": ("✖ Cancel", "✖ Отмена"),
}
