# Покупка в группе (g2).
group_buy-not_your_menu = Это меню { $name }. Отправьте /buy, чтобы открыть своё.
group_buy-not_your_number = Это может сделать только покупатель или администратор группы.
group_buy-codes_in_private = Коды этого номера приходят { $name } в личные сообщения.
group_buy-no_private_chat = { $name } ещё не запускал(а) бота в личке, поэтому коды придут сюда.
