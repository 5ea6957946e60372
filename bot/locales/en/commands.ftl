### The command menu (setMyCommands): one description per command, at most 256 characters.

commands-start = Start and what the bot does
commands-buy = Buy a number
commands-active = Running activations
commands-balance = Account balance
commands-history = Past activations and spending
commands-key = Set or change the API key
commands-settings = Language, country, favourites
commands-help = How to use the bot
commands-cancel = Leave the buy menu, or stop typing a key or setting
