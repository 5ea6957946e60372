"""Services: one per conversation area. Each owns its area's rules, opens its own short DB
sessions, calls the provider, and returns plain frozen dataclasses: handlers only turn an
update into a service call and a result into a screen. Built once in `bot.app.build_app`
and handed to handlers through the dispatcher (received by parameter name)."""
