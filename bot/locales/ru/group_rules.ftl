### Тексты правил группы: /groupsettings, /stats и /history в группе.
grules-only_groups = Эта команда работает в группе.
grules-admins_only = Это могут только администраторы группы.
grules-title = ⚙️ <b>Правила группы</b>
grules-screen =
    Кто может покупать: { $who }
    Дневной лимит на участника: { $daily }
    Номеров одновременно на участника: { $running }
    Коды приходят: { $codes }
grules-who-all = все
grules-who-admins = только администраторы
grules-who-chosen = выбранные участники
grules-codes-group = в группу
grules-codes-buyer = покупателю в личный чат
grules-none = без лимита
grules-btn-who = 👥 Кто покупает: { $who }
grules-btn-daily = 💰 Дневной лимит: { $daily }
grules-btn-running = 🔢 Одновременно: { $running }
grules-btn-codes = 📨 Коды: { $codes }
grules-btn-members = ✅ Выбранные участники
grules-btn-back = « Назад
grules-btn-close = ✖️ Закрыть
grules-btn-off = Без лимита
grules-pick_daily = Дневной лимит трат на участника (сутки по UTC, в валюте аккаунта):
grules-pick_running = Сколько номеров один участник может держать одновременно:
grules-members =
    <b>Выбранные участники</b> могут покупать, когда «кто покупает» — «выбранные участники» (администраторы могут всегда).
    Нажмите на имя, чтобы выбрать или убрать. Кого-то нет в списке: ответьте на его сообщение командой /groupsettings.
grules-members_empty = Здесь ещё никто не покупал: ответьте на сообщение участника командой /groupsettings, чтобы выбрать его.
grules-saved = Сохранено.
grules-refused-who_may_buy-admins = Отказ по правилу группы «кто может покупать»: здесь покупают только администраторы.
grules-refused-who_may_buy-chosen = Отказ по правилу группы «кто может покупать»: здесь покупают только участники, выбранные администраторами.
grules-refused-daily_limit = Отказ по правилу группы «дневной лимит»: сегодня потрачено { $used } из { $limit }, а этот номер стоит { $price }.
grules-refused-running_limit = Отказ по правилу группы «одновременно»: у вас { $used } из { $limit } номеров в работе.
grules-stats-header = 📊 <b>Траты группы</b> (UTC) · сегодня / неделя / месяц
grules-stats-member =
    <b>{ $name }</b>: { $today } / { $week } / { $month }
    номеров за месяц: { $bought } · кодов: { $codes } · возвратов: { $refunds } ({ $refunded })
grules-stats-empty = На этой неделе и в этом месяце никто не покупал за счёт группы.
grules-buyer = Купил(а): { $name }
# Описания команд для меню групп (bot/commands.py, область g1).
grules-cmd-groupsettings = Правила группы (администраторы)
grules-cmd-stats = Траты участников (администраторы)
grules-cmd-history = Активации группы
