"""Texts of the buy area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {
    # service menu and search
    "buy.menu": ("<b>🛒 Choose a service</b>\nOr just type part of its name to search.",
                 "<b>🛒 Выберите сервис</b>\nИли просто напишите часть названия для поиска."),
    "buy.search_results": ("<b>🔍 Services matching “{q}”</b>",
                           "<b>🔍 Сервисы по запросу «{q}»</b>"),
    "buy.nothing_found": (
        "Nothing found for “{q}”. Try a shorter part of the name, or pick from the menu.",
        "По запросу «{q}» ничего не найдено. Попробуйте часть названия покороче "
        "или выберите из меню.",
    ),
    "buy.search_hint": ("Just type part of the service's name in the chat, e.g. “whats”.",
                        "Просто напишите в чат часть названия сервиса, например «whats»."),
    "buy.btn.search": ("🔍 Search", "🔍 Поиск"),
    "buy.btn.menu": ("🛒 Services", "🛒 Сервисы"),
    "buy.btn.back_services": ("« Services", "« Сервисы"),
    "buy.btn.back_countries": ("« Countries", "« Страны"),
    # country menu
    "buy.countries": (
        "<b>{service}</b>\nChoose a country ({count} with numbers). "
        "Type a country name to filter.",
        "<b>{service}</b>\nВыберите страну (с номерами: {count}). "
        "Напишите название страны, чтобы отфильтровать.",
    ),
    "buy.countries_filtered": ("<b>{service}</b>\nCountries matching “{q}”:",
                               "<b>{service}</b>\nСтраны по запросу «{q}»:"),
    "buy.no_country_match": ("<b>{service}</b>\nNo country with numbers matches “{q}”.",
                             "<b>{service}</b>\nНет стран с номерами по запросу «{q}»."),
    "buy.no_stock": (
        "<b>{service}</b>\nNo numbers for this service in any country right now. "
        "Try again later or choose another service.",
        "<b>{service}</b>\nСейчас нет номеров для этого сервиса ни в одной стране. "
        "Попробуйте позже или выберите другой сервис.",
    ),
    "buy.btn.all_countries": ("🌍 All countries", "🌍 Все страны"),
    "buy.btn.search_services": ("🔍 Services named “{q}”", "🔍 Сервисы «{q}»"),
    "buy.btn.country": ("{flag} {name} · {price} · {count} pcs",
                        "{flag} {name} · {price} · {count} шт."),
    "buy.btn.any": ("🌍 Any country · from {price}", "🌍 Любая страна · от {price}"),
    "buy.btn.sort_stock": ("📦 Sort by stock", "📦 По наличию"),
    "buy.btn.sort_price": ("💰 Sort by price", "💰 По цене"),
    "buy.btn.fav_add": ("☆ Add to favourites", "☆ В избранное"),
    "buy.btn.fav_remove": ("★ Remove from favourites", "★ Убрать из избранного"),
    "buy.fav_added": ("Added to favourites.", "Добавлено в избранное."),
    "buy.fav_removed": ("Removed from favourites.", "Убрано из избранного."),
    "buy.prices_failed": (
        "Couldn't load prices: KoalaSMS is not answering. Nothing was charged.",
        "Не удалось загрузить цены: KoalaSMS не отвечает. Деньги не списаны.",
    ),
    # provider picker
    "buy.providers": (
        "<b>{service} · {country}</b>\nSeveral suppliers have numbers here. "
        "Take the cheapest or choose one:",
        "<b>{service} · {country}</b>\nЗдесь номера есть у нескольких поставщиков. "
        "Возьмите самый дешёвый или выберите:",
    ),
    "buy.btn.cheapest": ("Cheapest ({price})", "Самый дешёвый ({price})"),
    "buy.btn.provider": ("Supplier {id} · {price} · {count} pcs",
                         "Поставщик {id} · {price} · {count} шт."),
    # confirm
    "buy.confirm": ("<b>Confirm the purchase</b>\nService: {service}\nCountry: {country}",
                    "<b>Подтвердите покупку</b>\nСервис: {service}\nСтрана: {country}"),
    "buy.confirm_provider": ("Supplier: {id}", "Поставщик: {id}"),
    "buy.confirm_price": ("Price: <b>{price}</b>", "Цена: <b>{price}</b>"),
    "buy.balance_after": ("Balance after purchase: {balance}",
                          "Баланс после покупки: {balance}"),
    "buy.balance_short": ("⚠️ Your balance is {balance}: not enough for this number.",
                          "⚠️ На балансе {balance}: на этот номер не хватает."),
    "buy.btn.buy": ("✅ Buy for {price}", "✅ Купить за {price}"),
    "buy.buying": ("⏳ Buying {service} · {country} for {price}…",
                   "⏳ Покупаю {service} · {country} за {price}…"),
    "buy.already_buying": ("Already buying…", "Уже покупаю…"),
    "buy.already_bought": ("Already bought: see the card.", "Уже куплено: смотрите карточку."),
    "buy.bought": ("✅ Bought: see the card below.", "✅ Куплено: карточка ниже."),
    # errors of a purchase
    "buy.price_rose": ("The price of {service} · {country} rose to <b>{price}</b>. "
                       "Buy at {price}?",
                       "Цена {service} · {country} выросла до <b>{price}</b>. "
                       "Купить за {price}?"),
    "buy.btn.buy_at": ("✅ Buy at {price}", "✅ Купить за {price}"),
    "buy.no_numbers": ("No numbers left for {service} in {country}. "
                       "These countries have some:",
                       "Номера {service} в стране {country} закончились. "
                       "Они есть здесь:"),
    "buy.no_numbers_none": ("No numbers left for {service} in {country}, nor anywhere "
                            "else right now. Try again later.",
                            "Номера {service} в стране {country} закончились, и других "
                            "сейчас нет. Попробуйте позже."),
    "buy.btn.alt": ("{flag} {name} · {price}", "{flag} {name} · {price}"),
    "buy.no_balance": (
        "Not enough money on your KoalaSMS balance: you have {balance}, the number costs "
        "{price}. Top up the balance on the KoalaSMS website, then press Try again.",
        "Недостаточно денег на балансе KoalaSMS: у вас {balance}, номер стоит {price}. "
        "Пополните баланс на сайте KoalaSMS и нажмите «Повторить».",
    ),
    "buy.no_balance_unknown": (
        "Not enough money on your KoalaSMS balance for this number ({price}). Top up the "
        "balance on the KoalaSMS website, then press Try again.",
        "Недостаточно денег на балансе KoalaSMS для этого номера ({price}). Пополните "
        "баланс на сайте KoalaSMS и нажмите «Повторить».",
    ),
    "buy.prohibited": ("KoalaSMS does not sell {service} numbers. Choose another service.",
                       "KoalaSMS не продаёт номера для {service}. Выберите другой сервис."),
    "buy.transient": ("KoalaSMS did not answer; nothing was bought. Try again: I will "
                      "check the price first.",
                      "KoalaSMS не ответил; ничего не куплено. Попробуйте ещё раз: "
                      "я сначала проверю цену."),
    "buy.loading": ("⏳ Loading…", "⏳ Загружаю…"),
    "buy.lost": ("KoalaSMS did not confirm the purchase and I couldn't check whether a "
                 "number was bought. Check /active in a minute before buying again.",
                 "KoalaSMS не подтвердил покупку, и мне не удалось проверить, куплен ли "
                 "номер. Загляните в /active через минуту, прежде чем покупать снова."),
    # a purchase whose answer was lost (bot/intents.py)
    "buy.checking": (
        "⏳ KoalaSMS did not confirm the {service} purchase in time. I am checking whether "
        "the number was bought: it may appear within a minute. Please don't buy again "
        "meanwhile; I will update this message.",
        "⏳ KoalaSMS не подтвердил покупку {service} вовремя. Проверяю, куплен ли номер: "
        "он может появиться в течение минуты. Пожалуйста, не покупайте снова; я обновлю "
        "это сообщение.",
    ),
    "buy.still_checking": (
        "The previous purchase is still being checked. Wait for its answer before buying again.",
        "Предыдущая покупка ещё проверяется. Дождитесь ответа, прежде чем покупать снова.",
    ),
    "buy.intent_none": (
        "KoalaSMS did not confirm the {service} purchase, and no new number appeared on your "
        "account: nothing was bought. You can try again.",
        "KoalaSMS не подтвердил покупку {service}, и новый номер на аккаунте не появился: "
        "ничего не куплено. Можно попробовать ещё раз.",
    ),
    "buy.intent_unknown": (
        "I couldn't check whether the {service} number was bought. Check /active and your "
        "KoalaSMS balance before buying again.",
        "Мне не удалось проверить, куплен ли номер {service}. Проверьте /active и баланс "
        "KoalaSMS, прежде чем покупать снова.",
    ),
    "buy.intent_ask": (
        "KoalaSMS did not confirm the {service} purchase, and several new {service} numbers "
        "appeared on your account (some may have been bought elsewhere with the same key). "
        "Which one did you buy here?",
        "KoalaSMS не подтвердил покупку {service}, а на аккаунте появилось несколько новых "
        "номеров {service} (часть могла быть куплена в другом месте тем же ключом). "
        "Какой из них вы купили здесь?",
    ),
    "buy.btn.intent_none": ("None of these", "Ни один из них"),
    "buy.intent_declined": (
        "OK: none of these numbers is taken as this purchase, and I leave them alone. "
        "Manage them on the KoalaSMS website.",
        "Хорошо: ни один из этих номеров не считается этой покупкой, я их не трогаю. "
        "Управляйте ими на сайте KoalaSMS.",
    ),
    "buy.intent_gone": ("That number is no longer available to choose.",
                        "Этот номер больше нельзя выбрать."),
}
