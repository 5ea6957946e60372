### Texts of the history area.
history-empty = No activations yet. Send /buy to get a number.
history-header = 🧾 <b>History</b> · activations: { $count } · spent: { $total }
history-entry =
    <b>{ $n }. { $service }</b> · { $country }
    <code>{ $phone }</code> · { $price } · { $date }
history-codes = Code: { $codes }
history-btn-csv = 📄 CSV
history-csv_caption = Your activations: { $count }
history-csv_sent = Sending the file…
