### Texts of the buy area.

## service menu and search
buy-menu =
    <b>🛒 Выберите сервис</b>
    Или просто напишите часть названия для поиска.
buy-search_results = <b>🔍 Сервисы по запросу «{ $q }»</b>
buy-nothing_found = По запросу «{ $q }» ничего не найдено. Попробуйте часть названия покороче или выберите из меню.
buy-search_hint = Просто напишите в чат часть названия сервиса, например «whats».
buy-btn-search = 🔍 Поиск
buy-btn-menu = 🛒 Сервисы
buy-btn-back_services = « Сервисы
buy-btn-back_countries = « Страны

## country menu
buy-countries =
    <b>{ $service }</b>
    Выберите страну (с номерами: { $count }). Напишите название страны, чтобы отфильтровать.
buy-countries_filtered =
    <b>{ $service }</b>
    Страны по запросу «{ $q }»:
buy-no_country_match =
    <b>{ $service }</b>
    Нет стран с номерами по запросу «{ $q }».
buy-no_stock =
    <b>{ $service }</b>
    Сейчас нет номеров для этого сервиса ни в одной стране. Попробуйте позже или выберите другой сервис.
buy-btn-all_countries = 🌍 Все страны
buy-btn-search_services = 🔍 Сервисы «{ $q }»
buy-btn-country = { $flag } { $name } · { $price } · { $count } шт.
buy-btn-any = 🌍 Любая страна · от { $price }
buy-btn-sort_stock = 📦 По наличию
buy-btn-sort_price = 💰 По цене
buy-btn-fav_add = ☆ В избранное
buy-btn-fav_remove = ★ Убрать из избранного
buy-fav_added = Добавлено в избранное.
buy-fav_removed = Убрано из избранного.
buy-prices_failed = Не удалось загрузить цены: KoalaSMS не отвечает. Деньги не списаны.

## provider picker
buy-providers =
    <b>{ $service } · { $country }</b>
    Здесь номера есть у нескольких поставщиков. Возьмите самый дешёвый или выберите:
buy-btn-cheapest = Самый дешёвый ({ $price })
buy-btn-provider = Поставщик { $id } · { $price } · { $count } шт.

## confirm
buy-confirm =
    <b>Подтвердите покупку</b>
    Сервис: { $service }
    Страна: { $country }
buy-confirm_provider = Поставщик: { $id }
buy-confirm_price = Цена: <b>{ $price }</b>
buy-balance_after = Баланс после покупки: { $balance }
buy-balance_short = ⚠️ На балансе { $balance }: на этот номер не хватает.
buy-btn-buy = ✅ Купить за { $price }
buy-buying = ⏳ Покупаю { $service } · { $country } за { $price }…
buy-already_buying = Уже покупаю…
buy-already_bought = Уже куплено: смотрите карточку.
buy-bought = ✅ Куплено: карточка ниже.

## errors of a purchase
buy-price_rose = Цена { $service } · { $country } выросла до <b>{ $price }</b>. Купить за { $price }?
buy-btn-buy_at = ✅ Купить за { $price }
buy-no_numbers = Номера { $service } в стране { $country } закончились. Они есть здесь:
buy-no_numbers_none = Номера { $service } в стране { $country } закончились, и других сейчас нет. Попробуйте позже.
buy-btn-alt = { $flag } { $name } · { $price }
buy-no_balance = Недостаточно денег на балансе KoalaSMS: у вас { $balance }, номер стоит { $price }. Пополните баланс на сайте KoalaSMS и нажмите «Повторить».
buy-no_balance_unknown = Недостаточно денег на балансе KoalaSMS для этого номера ({ $price }). Пополните баланс на сайте KoalaSMS и нажмите «Повторить».
buy-prohibited = KoalaSMS не продаёт номера для { $service }. Выберите другой сервис.
buy-transient = KoalaSMS не ответил; ничего не куплено. Попробуйте ещё раз: я сначала проверю цену.
buy-lost = KoalaSMS не подтвердил покупку, и мне не удалось проверить, куплен ли номер. Загляните в /active через минуту, прежде чем покупать снова.

## a purchase whose answer was lost (bot/intents.py)
buy-checking = ⏳ KoalaSMS не подтвердил покупку { $service } вовремя. Проверяю, куплен ли номер: он может появиться в течение минуты. Пожалуйста, не покупайте снова; я обновлю это сообщение.
buy-still_checking = Предыдущая покупка ещё проверяется. Дождитесь ответа, прежде чем покупать снова.
buy-intent_none = KoalaSMS не подтвердил покупку { $service }, и новый номер на аккаунте не появился: ничего не куплено. Можно попробовать ещё раз.
buy-intent_unknown = Мне не удалось проверить, куплен ли номер { $service }. Проверьте /active и баланс KoalaSMS, прежде чем покупать снова.
buy-intent_ask = KoalaSMS не подтвердил покупку { $service }, а на аккаунте появилось несколько новых номеров { $service } (часть могла быть куплена в другом месте тем же ключом). Какой из них вы купили здесь?
buy-btn-intent_none = Ни один из них
buy-intent_declined = Хорошо: ни один из этих номеров не считается этой покупкой, я их не трогаю. Управляйте ими на сайте KoalaSMS.
buy-intent_gone = Этот номер больше нельзя выбрать.
buy-loading = ⏳ Загружаю…
