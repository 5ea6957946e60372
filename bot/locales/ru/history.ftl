### Texts of the history area.
history-empty = Активаций пока нет. Отправьте /buy, чтобы купить номер.
history-header = 🧾 <b>История</b> · активаций: { $count } · потрачено: { $total }
history-entry =
    <b>{ $n }. { $service }</b> · { $country }
    <code>{ $phone }</code> · { $price } · { $date }
history-codes = Код: { $codes }
history-btn-csv = 📄 CSV
history-csv_caption = Ваши активации: { $count }
history-csv_sent = Отправляю файл…
