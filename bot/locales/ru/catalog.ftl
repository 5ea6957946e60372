### Labels of the service and country catalogue (the names themselves are data: bot/data).

# The country of an offer that may come from any country.
catalog-any_country = Любая страна
