"""What handlers ask for, apart from Telegram: one module per area."""
