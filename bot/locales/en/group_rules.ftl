### Texts of the group rules area: /groupsettings, /stats and /history in a group.
grules-only_groups = This command works in a group.
grules-admins_only = Only the group's admins can do this.
grules-title = ⚙️ <b>Group rules</b>
grules-screen =
    Who may buy: { $who }
    Daily limit per member: { $daily }
    Numbers running at once per member: { $running }
    Codes go to: { $codes }
grules-who-all = everyone
grules-who-admins = admins only
grules-who-chosen = chosen members
grules-codes-group = the group
grules-codes-buyer = the buyer's private chat
grules-none = no limit
grules-btn-who = 👥 Who may buy: { $who }
grules-btn-daily = 💰 Daily limit: { $daily }
grules-btn-running = 🔢 Running limit: { $running }
grules-btn-codes = 📨 Codes to: { $codes }
grules-btn-members = ✅ Chosen members
grules-btn-back = « Back
grules-btn-close = ✖️ Close
grules-btn-off = No limit
grules-pick_daily = Daily spending limit per member (UTC day, in the account's currency):
grules-pick_running = How many numbers one member may have running at once:
grules-members =
    <b>Chosen members</b> may buy when "who may buy" is "chosen members" (admins always may).
    Tap a name to choose or unchoose. Someone not listed: reply to one of their messages with /groupsettings.
grules-members_empty = Nobody has bought here yet: reply to a member's message with /groupsettings to choose them.
grules-saved = Saved.
grules-refused-who_may_buy-admins = Refused by the group's rule "who may buy": only admins may buy here.
grules-refused-who_may_buy-chosen = Refused by the group's rule "who may buy": only members the admins chose may buy here.
grules-refused-daily_limit = Refused by the group's rule "daily limit": { $used } of { $limit } spent today, and this number costs { $price }.
grules-refused-running_limit = Refused by the group's rule "running limit": you have { $used } of { $limit } numbers running.
grules-stats-header = 📊 <b>Group spending</b> (UTC) · today / this week / this month
grules-stats-member =
    <b>{ $name }</b>: { $today } / { $week } / { $month }
    numbers this month: { $bought } · codes: { $codes } · refunds: { $refunds } ({ $refunded })
grules-stats-empty = Nobody has bought with the group's account this week or this month.
grules-buyer = Bought by { $name }
# Command menu descriptions for the group scope (bot/commands.py, g1's area).
grules-cmd-groupsettings = Group rules (admins)
grules-cmd-stats = Spending per member (admins)
grules-cmd-history = The group's activations
