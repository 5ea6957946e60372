"""Repositories: every query the bot makes lives here, one module per area."""

from storage.repos.activations import (
    CHARGED_STATES,
    REFUNDED_STATES,
    ActivationRepo,
    CodeRepo,
    PollKey,
    Spending,
)
from storage.repos.claims import CLAIM_DONE, CLAIM_HELD, BuyClaimRepo
from storage.repos.intents import (
    INTENT_ADOPTED,
    INTENT_AMBIGUOUS,
    INTENT_NONE,
    INTENT_OPEN,
    UNSETTLED_INTENTS,
    IntentRepo,
)
from storage.repos.users import AccountRepo, UserRepo

__all__ = [
    "CHARGED_STATES", "CLAIM_DONE", "CLAIM_HELD", "INTENT_ADOPTED", "INTENT_AMBIGUOUS",
    "INTENT_NONE", "INTENT_OPEN",
    "REFUNDED_STATES", "UNSETTLED_INTENTS", "AccountRepo", "ActivationRepo", "BuyClaimRepo",
    "CodeRepo",
    "IntentRepo", "PollKey", "Spending", "UserRepo",
]
