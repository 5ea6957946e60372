### Texts of the groups area: the bot joining, linking a group's API key, unlinking.

groups-intro =
    Hello, I'm KoalaBot: I buy temporary numbers on KoalaSMS and post the codes here.
    Admins: send /setkey to link the group's KoalaSMS account (the key is sent to me in private, never here).
groups-intro_linked = Hello again! This group's KoalaSMS account ({ $hint }) is linked: send /buy to get a number.
groups-admins_only = Only the group's admins can do this.
groups-setkey_prompt = { $name }, press the button to open a private chat with me and send the group's API key there. The link works once, for you only, for { $minutes } minutes.
groups-setkey_button = Send the key in private
groups-setkey_replace = This group already has a key ({ $hint }); a new one will replace it.
groups-link_unknown = This link is not valid or was already used. Ask for a new one with /setkey in the group.
groups-link_expired = This link has expired. Send /setkey in the group again for a new one.
groups-link_other_admin = This link was made for another admin. Send /setkey in the group yourself for your own link.
groups-link_not_admin = You are no longer an admin of that group, so you can't set its key.
groups-link_prompt =
    Send me the API key for the group «{ $group }» (Profile → API on koalasms.com).
    I delete your message as soon as I have read it, and store the key encrypted.
groups-key_saved = Key { $hint } saved: it now pays for numbers bought in «{ $group }» (balance { $balance }).
groups-key_saved_group = { $name } linked a KoalaSMS account ({ $hint }) to this group. Send /buy to get a number.
groups-key_not_admin = You are no longer an admin of «{ $group }»: the key was not saved.
groups-key_cancelled = The group's key was not changed.
groups-unlinked = The group's key { $hint } was removed. Numbers already running are still finished with it.
groups-unlink_none = This group has no key to remove.
groups-private_only = This works in a group: add me to a group and send it there.

groups-cmd_buy = Buy a number with the group's account
groups-cmd_active = Running activations
groups-cmd_balance = The group account's balance
groups-cmd_history = The group's activations
groups-cmd_stats = Spending per member (admins)
groups-cmd_settings = Rules for buying (admins)
groups-cmd_setkey = Link the group's API key (admins)
groups-cmd_unlink = Remove the group's API key (admins)
groups-cmd_help = How to use the bot
groups-no_key = This group has no KoalaSMS account yet. An admin links one with /setkey.
