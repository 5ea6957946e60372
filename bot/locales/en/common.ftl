### Texts shared by every area.
start-hello = Hi! I buy temporary numbers on KoalaSMS and bring the SMS code here.
common-back = « Back
common-close = ✖ Close
common-cancelled = Cancelled. Send /buy to start again.
common-nothing_to_cancel = Nothing to cancel.
common-not_yours = This button is not yours.
common-stale = This button is out of date. Send /buy or /active.
common-error = Something went wrong on our side. Nothing was charged; please try again.
common-provider_down = KoalaSMS is not answering right now. Nothing was charged. Try again in a minute.
common-try_again = 🔄 Try again
common-no_key = You have no KoalaSMS API key yet. Send /key to set it.
common-set_key_button = 🔑 Set API key
common-bad_key = KoalaSMS does not accept your API key any more. Send /key to set a new one.
common-banned = Your KoalaSMS account is blocked until { $until }.
common-region = KoalaSMS refuses requests from this server's region. The bot's operator must change its IP.
common-provider_error = KoalaSMS answered: <code>{ $text }</code>
common-key_unreadable = Your stored API key can no longer be read (the bot's secret changed). Please send /key to set it again.
common-unknown_message = I didn't understand that. Type part of a service name to find it, send /buy for the menu, or /help.
common-page = Page { $page }/{ $pages }
common-prev = ◀
common-next = ▶

## start / help (owned by the start area)
start-about = Pick a service and a country, confirm the price, and the code comes here by itself. No code — the number is cancelled and the money goes back to your balance.
start-need_key = To begin, set your KoalaSMS API key.
start-balance = 💰 Balance: { $balance }
start-buy_button = 🛒 Buy a number
start-buy_service = Buy a number for <b>{ $service }</b>?
start-buy_service_button = 🛒 Buy { $service }
start-key_link = For safety I never take an API key from a link. Send /key here and paste your key.
start-group_link_later = Linking a group is not available yet, sorry. You can already buy numbers here in private chat.
start-group = Admins link the group's KoalaSMS account with /setkey; for your own account, open a private chat with me.
start-help =
    <b>How to use me</b>
    /buy — choose a service and a country, confirm the price; I buy a number.
    The code arrives here by itself, usually within a minute or two.
    /active — running numbers, with Cancel / Another code / Complete.
    /balance — your KoalaSMS balance · /history — past numbers and spending.
    /key — set or change your API key · /settings — language, time zone, country, favourites.
    /cancel — leave the buy menu, or stop typing a key or a setting.

    <b>Refunds</b>: cancel a number with no code (allowed after a short wait) or let it run out — the price goes back to your balance. Once a code has come, the number is paid.
common-not_text = I read text only. Type part of a service name to find it, or send /buy or /help.
