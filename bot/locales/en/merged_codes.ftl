## several codes for one chat in one message (bot/outbox.py): one copy button per code
merged-copy_code = 📋 Code for { $phone }
