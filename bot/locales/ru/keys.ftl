### Texts of the keys area (API key, balance).
keys-prompt =
    Пришлите мне ваш API-ключ KoalaSMS (Профиль → API на koalasms.com).
    Я удалю ваше сообщение сразу после прочтения и сохраню ключ в зашифрованном виде.
keys-current =
    Ваш API-ключ: <code>{ $hint }</code>
    Что сделать?
keys-saved =
    ✅ Ключ сохранён: <code>{ $hint }</code>
    Баланс: { $balance }
keys-invalid_format = Это не похоже на API-ключ: ключ — одно слово из 16–128 букв, цифр, «-» или «_». Ничего не сохранено. Пришлите ключ ещё раз или /cancel.
keys-rejected = ❌ KoalaSMS не принимает этот ключ. Ничего не сохранено. Проверьте его на koalasms.com и пришлите снова или /cancel.
keys-cant_check = KoalaSMS не отвечает, поэтому проверить ключ сейчас нельзя. Ничего не сохранено. Попробуйте через минуту: /key.
keys-not_saved = Ничего не сохранено.
keys-send_text = Пришлите ключ текстовым сообщением или /cancel.
keys-remove_confirm = Удалить ключ <code>{ $hint }</code>? Текущие активации завершатся, но покупать нельзя, пока вы не укажете ключ снова.
keys-removed = 🗑 Ключ удалён.
keys-kept = Ключ оставлен: <code>{ $hint }</code>
keys-no_key_to_remove = Удалять нечего: ключа нет.
keys-group_private = Ради безопасности API-ключи никогда не отправляют в группу. Чтобы подключить аккаунт KoalaSMS этой группы, администратор отправляет здесь /setkey, а затем сам ключ мне в личный чат.
keys-group_deleted = Я удалил сообщение, похожее на API-ключ: не публикуйте ключи в группе. Если это был настоящий ключ, считайте его раскрытым и создайте новый на koalasms.com.
keys-looks_like_key = Это похоже на API-ключ, поэтому я удалил сообщение. Чтобы заменить ключ <code>{ $hint }</code>, отправьте /key.
keys-balance =
    💰 Баланс: { $balance }
    Ключ: <code>{ $hint }</code>
keys-cancelled = Отменено. Ничего не изменено.
keys-btn-replace = 🔁 Заменить
keys-btn-remove = 🗑 Удалить
keys-btn-keep = Оставить
keys-btn-remove_yes = 🗑 Да, удалить
keys-btn-cancel = ✖ Отмена
