### Texts of the keys area (API key, balance).
keys-prompt =
    Send me your KoalaSMS API key (Profile → API on koalasms.com).
    I delete your message as soon as I have read it, and store the key encrypted.
keys-current =
    Your API key: <code>{ $hint }</code>
    What do you want to do?
keys-saved =
    ✅ Key saved: <code>{ $hint }</code>
    Balance: { $balance }
keys-invalid_format = That does not look like an API key: a key is one word of 16–128 letters, digits, “-” or “_”. Nothing was saved. Send the key again, or /cancel.
keys-rejected = ❌ KoalaSMS does not accept this key. Nothing was saved. Check it on koalasms.com and send it again, or /cancel.
keys-cant_check = KoalaSMS is not answering, so I can't check the key now. Nothing was saved. Try again in a minute with /key.
keys-not_saved = Nothing was saved.
keys-send_text = Please send the key as a text message, or /cancel.
keys-remove_confirm = Remove the key <code>{ $hint }</code>? Running activations still finish, but you can't buy until you set a key again.
keys-removed = 🗑 Key removed.
keys-kept = Key kept: <code>{ $hint }</code>
keys-no_key_to_remove = There is no key to remove.
keys-group_private = For safety, API keys are never sent in a group. To link this group's KoalaSMS account, an admin sends /setkey here and then the key to me in a private chat.
keys-group_deleted = I deleted a message that looked like an API key: never post keys in a group. If it was a real key, consider it exposed and create a new one on koalasms.com.
keys-looks_like_key = That looks like an API key, so I deleted it. To replace your key <code>{ $hint }</code>, send /key.
keys-balance =
    💰 Balance: { $balance }
    Key: <code>{ $hint }</code>
keys-cancelled = Cancelled. Nothing was changed.
keys-btn-replace = 🔁 Replace
keys-btn-remove = 🗑 Remove
keys-btn-keep = Keep
keys-btn-remove_yes = 🗑 Yes, remove
keys-btn-cancel = ✖ Cancel
