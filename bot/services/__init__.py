"""Services: one per conversation area. They own the rules, open their own short database
sessions, call the provider, and return plain frozen dataclasses to the handlers."""
