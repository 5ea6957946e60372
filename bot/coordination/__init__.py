"""Several instances on one PostgreSQL database: who polls which account (leases.py), who
consumes getUpdates in polling mode (leader.py), and one actor at a time on an activation
or a purchase intent across instances (locks.py). On SQLite (one process) the locks are
the in-process ones and there are no leases: nothing here costs a query.

Why PostgreSQL and not Redis: every decision these protect (a code recorded, an activation
moved, a purchase adopted) is a write to PostgreSQL. Leases and locks in the same database
cannot disagree with the data they guard, a PostgreSQL lock dies with its connection (an
instance killed with -9 frees its locks at once), and a deployment on PostgreSQL alone
scales out too. Redis stays what it is here: shared conversation state (REDIS_URL).
"""

from bot.coordination.identity import instance_id
from bot.coordination.leader import Leader
from bot.coordination.leases import AccountLeases, lease_ttl
from bot.coordination.locks import ACTIVATION, INTENT, Locks, SharedLock, is_postgres

__all__ = ["ACTIVATION", "INTENT", "AccountLeases", "Leader", "Locks", "SharedLock",
           "instance_id", "is_postgres", "lease_ttl"]
