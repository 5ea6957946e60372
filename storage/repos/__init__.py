"""Repositories: every query the bot makes lives here, one module per area."""

from storage.repos.activations import (
    CHARGED_STATES,
    REFUNDED_STATES,
    ActivationRepo,
    CodeRepo,
    PollKey,
    Spending,
)
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
    "CHARGED_STATES", "INTENT_ADOPTED", "INTENT_AMBIGUOUS", "INTENT_NONE", "INTENT_OPEN",
    "REFUNDED_STATES", "UNSETTLED_INTENTS", "AccountRepo", "ActivationRepo", "CodeRepo",
    "IntentRepo", "PollKey", "Spending", "UserRepo",
]
