"""The repositories' old import path: they live in storage/repos/ (one module per area)."""

from storage.repos import (
    CHARGED_STATES,
    INTENT_ADOPTED,
    INTENT_AMBIGUOUS,
    INTENT_NONE,
    INTENT_OPEN,
    REFUNDED_STATES,
    UNSETTLED_INTENTS,
    AccountRepo,
    ActivationRepo,
    CodeRepo,
    IntentRepo,
    Spending,
    UserRepo,
)

__all__ = [
    "CHARGED_STATES", "INTENT_ADOPTED", "INTENT_AMBIGUOUS", "INTENT_NONE", "INTENT_OPEN",
    "REFUNDED_STATES", "UNSETTLED_INTENTS", "AccountRepo", "ActivationRepo", "CodeRepo",
    "IntentRepo", "Spending", "UserRepo",
]
