### Texts of the buy area.

## service menu and search
buy-menu =
    <b>🛒 Choose a service</b>
    Or just type part of its name to search.
buy-search_results = <b>🔍 Services matching “{ $q }”</b>
buy-nothing_found = Nothing found for “{ $q }”. Try a shorter part of the name, or pick from the menu.
buy-search_hint = Just type part of the service's name in the chat, e.g. “whats”.
buy-btn-search = 🔍 Search
buy-btn-menu = 🛒 Services
buy-btn-back_services = « Services
buy-btn-back_countries = « Countries

## country menu
buy-countries =
    <b>{ $service }</b>
    Choose a country ({ $count } with numbers). Type a country name to filter.
buy-countries_filtered =
    <b>{ $service }</b>
    Countries matching “{ $q }”:
buy-no_country_match =
    <b>{ $service }</b>
    No country with numbers matches “{ $q }”.
buy-no_stock =
    <b>{ $service }</b>
    No numbers for this service in any country right now. Try again later or choose another service.
buy-btn-all_countries = 🌍 All countries
buy-btn-search_services = 🔍 Services named “{ $q }”
buy-btn-country = { $flag } { $name } · { $price } · { $count } pcs
buy-btn-any = 🌍 Any country · from { $price }
buy-btn-sort_stock = 📦 Sort by stock
buy-btn-sort_price = 💰 Sort by price
buy-btn-fav_add = ☆ Add to favourites
buy-btn-fav_remove = ★ Remove from favourites
buy-fav_added = Added to favourites.
buy-fav_removed = Removed from favourites.
buy-prices_failed = Couldn't load prices: KoalaSMS is not answering. Nothing was charged.

## provider picker
buy-providers =
    <b>{ $service } · { $country }</b>
    Several suppliers have numbers here. Take the cheapest or choose one:
buy-btn-cheapest = Cheapest ({ $price })
buy-btn-provider = Supplier { $id } · { $price } · { $count } pcs

## confirm
buy-confirm =
    <b>Confirm the purchase</b>
    Service: { $service }
    Country: { $country }
buy-confirm_provider = Supplier: { $id }
buy-confirm_price = Price: <b>{ $price }</b>
buy-balance_after = Balance after purchase: { $balance }
buy-balance_short = ⚠️ Your balance is { $balance }: not enough for this number.
buy-btn-buy = ✅ Buy for { $price }
buy-buying = ⏳ Buying { $service } · { $country } for { $price }…
buy-already_buying = Already buying…
buy-already_bought = Already bought: see the card.
buy-bought = ✅ Bought: see the card below.

## errors of a purchase
buy-price_rose = The price of { $service } · { $country } rose to <b>{ $price }</b>. Buy at { $price }?
buy-btn-buy_at = ✅ Buy at { $price }
buy-no_numbers = No numbers left for { $service } in { $country }. These countries have some:
buy-no_numbers_none = No numbers left for { $service } in { $country }, nor anywhere else right now. Try again later.
buy-btn-alt = { $flag } { $name } · { $price }
buy-no_balance = Not enough money on your KoalaSMS balance: you have { $balance }, the number costs { $price }. Top up the balance on the KoalaSMS website, then press Try again.
buy-no_balance_unknown = Not enough money on your KoalaSMS balance for this number ({ $price }). Top up the balance on the KoalaSMS website, then press Try again.
buy-prohibited = KoalaSMS does not sell { $service } numbers. Choose another service.
buy-transient = KoalaSMS did not answer; nothing was bought. Try again: I will check the price first.
buy-lost = KoalaSMS did not confirm the purchase and I couldn't check whether a number was bought. Check /active in a minute before buying again.

## a purchase whose answer was lost (bot/intents.py)
buy-checking = ⏳ KoalaSMS did not confirm the { $service } purchase in time. I am checking whether the number was bought: it may appear within a minute. Please don't buy again meanwhile; I will update this message.
buy-still_checking = The previous purchase is still being checked. Wait for its answer before buying again.
buy-intent_none = KoalaSMS did not confirm the { $service } purchase, and no new number appeared on your account: nothing was bought. You can try again.
buy-intent_unknown = I couldn't check whether the { $service } number was bought. Check /active and your KoalaSMS balance before buying again.
buy-intent_ask = KoalaSMS did not confirm the { $service } purchase, and several new { $service } numbers appeared on your account (some may have been bought elsewhere with the same key). Which one did you buy here?
buy-btn-intent_none = None of these
buy-intent_declined = OK: none of these numbers is taken as this purchase, and I leave them alone. Manage them on the KoalaSMS website.
buy-intent_gone = That number is no longer available to choose.
buy-loading = ⏳ Loading…
