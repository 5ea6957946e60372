# Buying in a group (g2).
group_buy-not_your_menu = This is { $name }'s menu. Send /buy to open your own.
group_buy-not_your_number = Only the buyer and the group's admins can do this.
group_buy-codes_in_private = Codes for this number are sent to { $name } in private.
group_buy-no_private_chat = { $name } has not started the bot in private, so the codes come here.
