"""Texts of the history area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    "history.empty": ("No activations yet. Send /buy to get a number.",
                      "Активаций пока нет. Отправьте /buy, чтобы купить номер."),
    "history.header": ("🧾 <b>History</b> · activations: {count} · spent: {total}",
                       "🧾 <b>История</b> · активаций: {count} · потрачено: {total}"),
    "history.entry": ("<b>{n}. {service}</b> · {country}\n<code>{phone}</code> · {price} · {date}",
                      "<b>{n}. {service}</b> · {country}\n<code>{phone}</code> · {price} · {date}"),
    "history.codes": ("Code: {codes}", "Код: {codes}"),
    "history.btn.csv": ("📄 CSV", "📄 CSV"),
    "history.csv_caption": ("Your activations: {count}", "Ваши активации: {count}"),
    "history.csv_sent": ("Sending the file…", "Отправляю файл…"),
}
