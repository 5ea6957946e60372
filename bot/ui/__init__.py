"""What people see, shared by the handlers and the poller: callback data, keyboards and
activation cards. Nothing here talks to the provider or the database."""
