""""Any country" is None everywhere in the bot; only the wire says "any"."""

from __future__ import annotations

from bot.koala.client import KoalaClient
from bot.ui.callbacks import BuyAction, BuyCb, CountryAction, CountryCb


def test_any_country_packs_as_empty_and_comes_back_as_none() -> None:
    data = CountryCb(action=CountryAction.PICK, owner=1, svc="tg").pack()
    assert CountryCb.unpack(data).country is None
    data = BuyCb(action=BuyAction.SHOW, owner=1, svc="tg", country=None).pack()
    assert BuyCb.unpack(data).country is None
    assert BuyCb.unpack(BuyCb(action=BuyAction.SHOW, owner=1, svc="tg", country=0).pack()
                        ).country == 0  # Russia is country 0, not "any"


def test_the_client_spells_none_as_any_on_the_wire() -> None:
    params = KoalaClient._purchase_params("tg", None, None, None, None)
    assert params["country"] == "any"
    assert KoalaClient._purchase_params("tg", 0, None, None, None)["country"] == 0
