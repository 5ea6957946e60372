"""Tables. Times are aware UTC datetimes (SQLModel's UTCDateTime keeps them so on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.states import ActivationState


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    language: str | None = Field(default=None, max_length=8)
    default_country: int | None = None
    tz_offset_minutes: int | None = None  # None: guessed from the language
    created_at: datetime = Field(default_factory=utcnow)
    # The buy menu open in the private chat (it outlives the FSM, which a restart loses
    # with memory storage): typed text edits it, a new menu retires its buttons.
    menu_message_id: int | None = Field(default=None, sa_type=BigInteger)
    menu_kind: str | None = Field(default=None, max_length=64)  # see handlers/menus.py
    menu_at: datetime | None = None


class Favourite(SQLModel, table=True):
    __tablename__ = "favourites"
    __table_args__ = (UniqueConstraint("user_id", "service"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=BigInteger, index=True)
    service: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    """A provider API key, owned by a user (owner_id > 0) or a group chat (owner_id < 0)."""

    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(sa_type=BigInteger, index=True)
    key_encrypted: str  # emptied once a retired account has nothing left to finish
    key_hint: str = Field(max_length=16)  # masked form shown to the owner
    linked_by: int = Field(sa_type=BigInteger)  # the user who set the key
    created_at: datetime = Field(default_factory=utcnow)
    # A replaced or removed key is retired, not deleted: its running activations still
    # need it to be cancelled or completed.
    retired_at: datetime | None = None
    # ISO 4217 numeric code of the account's money. Balances and price lists name none:
    # learned from the first purchase or activation list that does, then shown everywhere.
    currency: int | None = None


class Activation(SQLModel, table=True):
    __tablename__ = "activations"
    __table_args__ = (UniqueConstraint("account_id", "provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(sa_type=BigInteger)  # the provider's activation id
    account_id: int = Field(foreign_key="accounts.id", index=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    buyer_id: int = Field(sa_type=BigInteger, index=True)
    # The forum topic the purchase was made in (None: no topics): its card and codes go there.
    message_thread_id: int | None = Field(default=None, sa_type=BigInteger)
    # Where its codes go when not to chat_id: the buyer's private chat, when the group's
    # rules say so (None again once that chat proved unreachable).
    codes_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    card_message_id: int | None = None
    # When the card's text was last rendered: the time-left schedule (bot/card_refresh.py)
    # edits it again only once a threshold has passed since then.
    card_refreshed_at: datetime | None = None
    service: str = Field(max_length=32)
    country: int | None = None  # the country the user chose (None: any)
    phone: str = Field(max_length=32)
    cost: float = 0.0
    currency: int | None = None
    state: ActivationState = Field(default=ActivationState.WAITING, sa_type=String(24), index=True)
    can_get_another_sms: bool = False
    cancel_requested: bool = False  # Cancel pressed before the window opened
    resend_requested: bool = False  # the provider asked the service to re-send the SMS
    bought_at: datetime = Field(default_factory=utcnow)
    cancel_at: datetime  # local time when cancelling becomes possible
    ends_at: datetime  # local time when the provider ends it
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Code(SQLModel, table=True):
    __tablename__ = "codes"
    __table_args__ = (UniqueConstraint("activation_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    activation_id: int = Field(foreign_key="activations.id", index=True)
    seq: int  # 1 for the first code of the activation, 2 for the next...
    # Whatever length the provider sends: a code is not always a few digits (a link, a
    # whole sentence), and an SMS can be thousands of characters. A bounded column made a
    # long one fail to store on PostgreSQL, and the poller tried again every tick.
    code: str = Field(sa_type=Text)
    text: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = Field(default_factory=utcnow)
    delivered: bool = Field(default=False, index=True)
    message_id: int | None = None


class GroupSettings(SQLModel, table=True):
    """Per-group purchase rules (bot/services/group_rules.py; /groupsettings)."""

    __tablename__ = "group_settings"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    members_can_buy: bool = True  # unused since 0009: who_may_buy says it
    # The per-member daily spending cap (UTC day), in the account's currency.
    member_limit: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
    who_may_buy: str = Field(default="all", max_length=8)  # all | admins | chosen
    running_limit: int | None = None  # numbers one member may have running at once
    codes_to: str = Field(default="group", max_length=8)  # group | buyer
    # Bumped by every reservation: the UPDATE that bumps it is what serialises two
    # reservations in one group (a row lock on PostgreSQL, the write lock on SQLite).
    version: int = 0


class GroupMember(SQLModel, table=True):
    """A member an admin chose ("chosen members may buy")."""

    __tablename__ = "group_members"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(default="", max_length=128)
    added_at: datetime = Field(default_factory=utcnow)


class GroupReservation(SQLModel, table=True):
    """Room held for a group purchase in flight: its price counts against the member's
    daily limit and its slot against the running limit until the purchase is confirmed
    (then the activation counts) or released."""

    __tablename__ = "group_reservations"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    member_id: int = Field(sa_type=BigInteger)
    amount: float = 0.0
    state: str = Field(default="held", max_length=12, index=True)  # held|confirmed|released
    activation_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PurchaseIntent(SQLModel, table=True):
    """A purchase about to be sent to the provider, recorded BEFORE the request.

    getNumberV2 may charge even when its answer never arrives (time-out, crash): the
    intent stays "open" until the outcome is known, then becomes "adopted" (the number
    found and recorded), "none" (certainly nothing bought) or "ambiguous" (several
    numbers could be it: the user is asked which).
    """

    __tablename__ = "purchase_intents"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    buyer_id: int = Field(sa_type=BigInteger)
    service: str = Field(max_length=32)
    country: int | None = None  # None: any country
    operator: int | None = None  # the provider id (providerIds) asked for, if any
    max_price: float | None = None
    # Provider activation ids listed just before the request (comma-separated; None: the
    # list could not be read): none of them can be this purchase.
    known_before: str | None = None
    requested_at: datetime = Field(default_factory=utcnow)
    state: str = Field(default="open", max_length=16, index=True)
    message_id: int | None = None  # the menu message that said "Buying…"
    message_thread_id: int | None = Field(default=None, sa_type=BigInteger)  # forum topic
    codes_chat_id: int | None = Field(default=None, sa_type=BigInteger)  # see Activation
    candidates: str | None = None  # ambiguous: provider ids offered to the user
    activation_id: int | None = None  # adopted: our activation row id
    settled_at: datetime | None = None


class GroupLink(SQLModel, table=True):
    """A one-time deep link (t.me/<bot>?start=link_<token>) an admin of a group opens to
    send the group's API key in private. Only the token's SHA-256 is stored: a leaked
    database does not give usable links. Bound to one group and one admin; single use
    (used_at), expiring (expires_at)."""

    __tablename__ = "group_links"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    chat_id: int = Field(sa_type=BigInteger, index=True)
    admin_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class Lease(SQLModel, table=True):
    """Who does a piece of shared work, until when (several instances on PostgreSQL;
    bot/coordination/leases.py). Names: `account:<id>` (polling that account),
    `instance:<id>` (an instance's heartbeat), `poll-leader` (the getUpdates consumer).
    Expiry is compared with the database's clock, never an instance's."""

    __tablename__ = "leases"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    holder: str = Field(default="", max_length=128)  # "": free
    expires_at: datetime = Field(default_factory=utcnow)


class BuyClaim(SQLModel, table=True):
    """One Buy press that went ahead: a second press of the same button on the same menu
    (a double tap that reached another instance) finds the row and buys nothing. Removed
    again when the purchase certainly bought nothing, so "Try again" works."""

    __tablename__ = "buy_claims"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", "data"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    data: str = Field(max_length=64)  # the button's callback data
    state: str = Field(default="held", max_length=8)  # held | done
    claimed_at: datetime = Field(default_factory=utcnow)


class CodeSend(SQLModel, table=True):
    """A code message being sent right now (several instances; bot/coordination/sends.py).
    Written before the send and removed after it, whatever it did: a row still there was
    left by an instance that died mid-send, so nobody can tell whether the chat got it."""

    __tablename__ = "code_sends"

    code_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    holder: str = Field(default="", max_length=128)
    started_at: datetime = Field(default_factory=utcnow)
