### The command menu (setMyCommands): one description per command, at most 256 characters.

commands-start = Начало и что умеет бот
commands-buy = Купить номер
commands-active = Активные активации
commands-balance = Баланс
commands-history = История и расходы
commands-key = Указать или сменить API-ключ
commands-settings = Язык, страна, избранное
commands-help = Как пользоваться ботом
commands-cancel = Выйти из меню покупки или ввода ключа, настройки
