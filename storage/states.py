"""The activation state machine. Later features build on it, so transitions are explicit."""

from __future__ import annotations

import enum


class ActivationState(enum.StrEnum):
    WAITING = "waiting"  # number bought, no code yet
    RECEIVED = "received"  # at least one code came; can complete or ask for another
    RETRY = "retry"  # another code was asked for (setStatus 3)
    COMPLETED = "completed"  # setStatus 6 done, or ended after a code
    CANCELLED = "cancelled"  # cancelled by the user (or the bot for them), refunded
    EXPIRED = "expired"  # ended with no code; cancelled by the bot, refunded
    PROVIDER_CANCELLED = "provider_cancelled"  # the provider cancelled it on its own
    # The provider no longer knows it (NO_ACTIVATION) and nothing showed how it ended:
    # neither refunded nor completed as far as we know, and nothing more can be asked.
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def has_code(self) -> bool:
        return self in {ActivationState.RECEIVED, ActivationState.RETRY,
                        ActivationState.COMPLETED}


FINAL_STATES = frozenset({
    ActivationState.COMPLETED,
    ActivationState.CANCELLED,
    ActivationState.EXPIRED,
    ActivationState.PROVIDER_CANCELLED,
    ActivationState.UNKNOWN,
})
ACTIVE_STATES = frozenset(set(ActivationState) - FINAL_STATES)

_S = ActivationState
TRANSITIONS: dict[ActivationState, frozenset[ActivationState]] = {
    _S.WAITING: frozenset({_S.RECEIVED, _S.CANCELLED, _S.EXPIRED, _S.PROVIDER_CANCELLED,
                           _S.UNKNOWN}),
    _S.RECEIVED: frozenset({_S.RETRY, _S.COMPLETED, _S.PROVIDER_CANCELLED}),
    _S.RETRY: frozenset({_S.RECEIVED, _S.COMPLETED, _S.PROVIDER_CANCELLED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.PROVIDER_CANCELLED: frozenset(),
    _S.UNKNOWN: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, current: ActivationState, target: ActivationState) -> None:
        super().__init__(f"activation cannot go from {current} to {target}")
        self.current, self.target = current, target


def can_move(current: ActivationState, target: ActivationState) -> bool:
    return current == target or target in TRANSITIONS[current]


def check_move(current: ActivationState, target: ActivationState) -> ActivationState:
    if not can_move(current, target):
        raise InvalidTransition(current, target)
    return target
