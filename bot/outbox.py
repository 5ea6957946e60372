"""The code outbox: a code is recorded, then sent, then marked delivered.

Recording is one transaction (the code, the state it moves the activation to, the flags
it clears); sending is a job in the chat's sender (bot/chat_queue.py) at the top priority,
posted before the card edit, so the code goes first and nobody waits for the chat's pace
but that chat. A code that could not be sent (a crash, a network failure given up, a
blocked chat) stays undelivered in the table and `deliver_pending` posts it again on a
later poller tick; the ids of codes queued or sent here are remembered, so none is sent
twice by this process. Codes that wait for the same chat (its pace is about one message
a second) go out together in one message when their turn comes, each under its number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from aiogram.exceptions import TelegramAPIError
from sqlalchemy import update
from sqlmodel import col, select

from bot.card_publisher import CardPublisher
from bot.catalog import Catalog
from bot.chat_queue import CODE
from bot.coordination.locks import SharedLock
from bot.limits import MESSAGE_LIMIT, visible_units
from bot.notifier import ChatUnavailable, Notifier, is_permanent
from bot.texts import Translator
from bot.ui import cards
from storage.db import SessionFactory
from storage.models import Activation, Code, User, utcnow
from storage.repo import CodeRepo
from storage.states import ActivationState, check_move

log = logging.getLogger(__name__)

CODE_STATES = frozenset({ActivationState.WAITING, ActivationState.RETRY})


@dataclass(frozen=True, slots=True)
class Recorded:
    """A new code, stored with the state it moved the activation to."""

    activation: Activation
    code: Code
    t: Translator  # the buyer's language
    dropped_cancel: bool  # a cancel was asked for; the code came first, so it was kept


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A code queued for its chat, with its message text (bot/ui/cards.code_message)."""

    rec: Recorded
    text: str


MERGED = "codes"  # the key of a chat's code job: codes posted while it waits join it
MERGE_MAX = 10  # codes in one message at most (one copy button each)
# Room for the codes of one message: Telegram's limit, less what fit_html may count more.
MERGE_ROOM = MESSAGE_LIMIT - 96


def _batch(waiting: list[_Waiting], target: int) -> tuple[list[_Waiting], list[_Waiting]]:
    """The codes that go in the next message (the oldest first, those that share its
    thread and fit), and the rest."""
    first = waiting[0].rec.activation
    thread = None if target != first.chat_id else first.message_thread_id
    batch: list[_Waiting] = []
    rest: list[_Waiting] = []
    room = MERGE_ROOM
    for w in waiting:
        a = w.rec.activation
        same_thread = (None if target != a.chat_id else a.message_thread_id) == thread
        size = visible_units(w.text) + 2
        if not batch or (len(batch) < MERGE_MAX and same_thread and size <= room):
            batch.append(w)
            room -= size
        else:
            rest.append(w)
    return batch, rest


class Outbox:
    merges = True  # codes waiting for one chat go in one message (see _send_waiting)

    def __init__(self, *, db: SessionFactory, catalog: Catalog, notifier: Notifier,
                 card_publisher: CardPublisher,
                 lock: Callable[[int], SharedLock]) -> None:
        self.db = db
        self.catalog = catalog
        self.notifier = notifier
        self.cards = card_publisher
        self.lock = lock  # the activation's lock (the money core's): one actor at a time
        self.code_delivered: Callable[[Code], None] = lambda code: None  # metrics hook
        self._in_flight: set[int] = set()  # code ids queued or being sent
        self._done: set[int] = set()  # sent here; the table may not say so yet
        self._waiting: dict[int, list[_Waiting]] = {}  # chat -> codes for its code job

    async def record(self, activation_id: int, code: str, text: str | None, *,
                     can_get_another_sms: bool | None = None) -> Recorded | None:
        """Store a code unless it is already the last one known, in one transaction with
        the state change (and the provider's another-code flag when it changed). None:
        no new code. Called under the activation's lock."""
        async with self.db() as session:
            found = (await session.exec(
                select(Activation, User.language)
                .join(User, col(User.id) == col(Activation.buyer_id), isouter=True)
                .where(col(Activation.id) == activation_id))).first()
            if found is None:
                return None
            a, language = found
            if ActivationState(a.state).is_final:
                return None
            changed = False
            if can_get_another_sms is not None and can_get_another_sms != a.can_get_another_sms:
                a.can_get_another_sms = can_get_another_sms
                changed = True
            known = list((await session.exec(
                select(Code.code).where(Code.activation_id == activation_id)
                .order_by(col(Code.seq)))).all())
            row: Code | None = None
            dropped_cancel = a.cancel_requested
            if not known or known[-1] != code:
                row = Code(activation_id=activation_id, seq=len(known) + 1, code=code,
                           text=text)
                session.add(row)
                if ActivationState(a.state) in CODE_STATES:
                    a.state = check_move(ActivationState(a.state), ActivationState.RECEIVED)
                    a.cancel_requested = False
                    a.resend_requested = False
                changed = True
            if not changed:
                return None
            a.updated_at = utcnow()
            session.add(a)
            # The writes (the code, the state, the flags) commit together. The reads
            # before them are short transactions of their own (storage.db.ShortSession):
            # on SQLite a read snapshot held into a write could fail with SQLITE_BUSY.
            await session.commit()
        if row is None or row.id is None:
            return None
        self._in_flight.add(row.id)  # before the lock is let go: deliver_pending skips it
        return Recorded(a, row, Translator(language), dropped_cancel)

    def deliver(self, rec: Recorded, *, refresh_card: bool = True) -> None:
        """Queue the code (first) and the card edit that shows it; returns at once."""
        a, code, t = rec.activation, rec.code, rec.t
        assert code.id is not None
        self._in_flight.add(code.id)
        text, full_sms = cards.code_message(a, code, t, self.catalog)
        note = "act.notice.cancel_dropped" if rec.dropped_cancel else None
        if a.codes_chat_id is not None and a.codes_chat_id != a.chat_id:
            target = a.codes_chat_id
        elif (a.chat_id < 0 and a.card_message_id is not None and full_sms is None
              and self.notifier.busy(a.chat_id)):
            # A busy group (near ~20 messages a minute, or in a flood wait): the card,
            # edited to show every code, carries this one; a message of its own would wait
            # in the group's queue.
            self.notifier.post(a.chat_id, lambda: self._fold(rec, note), priority=CODE)
            return
        else:
            target = a.chat_id
        if full_sms is None and self.merges:
            # Codes that wait for the same chat go together (see _send_waiting).
            self._waiting.setdefault(target, []).append(_Waiting(rec, text))
            self.notifier.post(target, lambda: self._send_waiting(target), priority=CODE,
                               key=MERGED)
        else:
            self.notifier.post(target, lambda: self._send(rec, target, text, full_sms),
                               priority=CODE)
        if refresh_card:
            self.cards.refresh_later(a, note=note)

    async def _send_waiting(self, target: int) -> None:
        """The code job of a chat: every code waiting for the chat goes in one message
        (up to MERGE_MAX, within Telegram's length), each under its own number, instead
        of one message a second. A user who gets ten codes at once has all of them in
        about a second, not ten; the per-chat limit is kept and each code is still
        marked delivered once, with the message that carries it."""
        waiting = self._waiting.pop(target, [])
        if not waiting:
            return
        batch, rest = _batch(waiting, target)
        if rest:  # the next message, in its turn
            self._waiting[target] = rest + self._waiting.get(target, [])
            self.notifier.post(target, lambda: self._send_waiting(target), priority=CODE,
                               key=MERGED)
        if len(batch) == 1:
            await self._send(batch[0].rec, target, batch[0].text, None)
            return
        try:
            await self._send_merged(target, batch)
        except BaseException:
            for w in batch:
                if w.rec.code.id not in self._done:
                    self._in_flight.discard(w.rec.code.id or 0)
            raise

    async def _send_merged(self, target: int, batch: list[_Waiting]) -> None:
        first = batch[0].rec.activation
        private = target != first.chat_id
        if not private and target < 0 and self.notifier.busy(target):
            for w in batch:  # a busy group: each card's edit carries its code
                await self._fold(w.rec, None)
            return
        text = "\n\n".join(w.text.strip() for w in batch)  # one blank line between codes
        markup = cards.merged_codes_markup([(w.rec.activation, w.rec.code) for w in batch],
                                           batch[0].rec.t)
        try:
            message = await self.notifier.send(
                target, text, markup=markup,
                thread=None if private else first.message_thread_id)
        except ChatUnavailable:
            for w in batch:
                self._in_flight.discard(w.rec.code.id or 0)
            if private:
                for w in batch:
                    await self._codes_to_group(w.rec)
            return
        except TelegramAPIError as exc:
            if is_permanent(exc):  # refused as a whole: each on its own, as usual
                log.warning("%d codes in one message refused (%s); sending them one by one",
                            len(batch), exc)
                for w in batch:
                    await self._send(w.rec, target, w.text, None)
                return
            log.warning("%d codes for chat %s not delivered yet: %s", len(batch), target, exc)
            for w in batch:
                self._in_flight.discard(w.rec.code.id or 0)
            return
        await self._mark_all_delivered([w.rec.code for w in batch], message.message_id)

    async def _fold(self, rec: Recorded, note: str | None) -> None:
        a, code = rec.activation, rec.code
        try:
            if await self.cards.edit_now(a.id or 0, note=note):
                await self._mark_delivered(code, a.card_message_id)
                log.info("code of activation %s folded into its card (busy group)", a.id)
        finally:
            self._in_flight.discard(code.id or 0)

    async def _send(self, rec: Recorded, target: int, text: str,
                    full_sms: str | None) -> None:
        """The code job, run by the target chat's sender."""
        try:
            await self._send_code(rec, target, text, full_sms)
        except BaseException:
            # Whatever went wrong, deliver_pending may try it again (it is undelivered).
            if rec.code.id not in self._done:
                self._in_flight.discard(rec.code.id or 0)
            raise

    async def _send_code(self, rec: Recorded, target: int, text: str,
                         full_sms: str | None) -> None:
        a, code, t = rec.activation, rec.code, rec.t
        private = target != a.chat_id
        if (not private and target < 0 and a.card_message_id is not None
                and full_sms is None and self.notifier.busy(target)):
            # The group got busy while this code waited its turn (a flood wait, many
            # codes at once): the card's edit carries it, no message of its own.
            await self._fold(rec, None)
            return
        try:
            message = await self.notifier.send(
                target, text, markup=cards.code_markup(code, t),
                reply_to=None if private else a.card_message_id,
                thread=None if private else a.message_thread_id)
        except ChatUnavailable:
            self._in_flight.discard(code.id or 0)
            if private:
                await self._codes_to_group(rec)
            return
        except TelegramAPIError as exc:
            if not is_permanent(exc):
                log.warning("code of activation %s not delivered yet: %s", a.id, exc)
                self._in_flight.discard(code.id or 0)
                return
            if private:  # the buyer's chat refuses it: the group gets it
                self._in_flight.discard(code.id or 0)
                await self._codes_to_group(rec)
                return
            log.error("code message of activation %s refused (%s); sending the bare code",
                      a.id, exc)
            await self._mark_delivered(code, await self._send_bare(a, code, t))
            return
        await self._mark_delivered(code, message.message_id)
        if full_sms is not None:
            # After the code is marked delivered: a failure here must not send it twice.
            self.notifier.post(target, lambda: self._send_sms_file(
                a, full_sms, t, message.message_id, target), priority=CODE)

    async def _mark_delivered(self, code: Code, message_id: int | None) -> None:
        await self._mark_all_delivered([code], message_id)

    async def _mark_all_delivered(self, codes: list[Code], message_id: int | None) -> None:
        """One UPDATE for the codes one message carried."""
        ids = [code.id for code in codes if code.id is not None]
        try:
            async with self.db() as session:
                await session.exec(update(Code).where(col(Code.id).in_(ids))
                                   .values(delivered=True, message_id=message_id))
                await session.commit()
        finally:
            self._in_flight.difference_update(ids)
            self._done.update(ids)
        if message_id is not None:
            for code in codes:
                self.code_delivered(code)

    async def _codes_to_group(self, rec: Recorded) -> None:
        """The buyer's private chat is out of reach: this and later codes go to the group
        (whose card then says so no more)."""
        a = rec.activation
        async with self.db() as session:
            await session.exec(update(Activation)
                               .where(col(Activation.id) == a.id).values(codes_chat_id=None))
            await session.commit()
        moved = replace(rec, activation=a.model_copy(update={"codes_chat_id": None}))
        name = await self.cards.buyer_name(a)
        text, full_sms = cards.code_message(moved.activation, rec.code, rec.t, self.catalog)
        text = f"{text}\n{rec.t('group_buy.no_private_chat', name=name)}"
        self._in_flight.add(rec.code.id or 0)
        self.notifier.post(a.chat_id, lambda: self._send(moved, a.chat_id, text, full_sms),
                           priority=CODE)
        self.cards.refresh_later(moved.activation)

    async def _send_bare(self, a: Activation, code: Code, t: Translator) -> int | None:
        try:
            message = await self.notifier.send(a.chat_id, cards.code_plain(code, t),
                                               reply_to=a.card_message_id,
                                               thread=a.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.error("code of activation %s could not be delivered: %s", a.id, exc)
            return None
        return message.message_id

    async def _send_sms_file(self, a: Activation, full_sms: str, t: Translator,
                             reply_to: int, chat_id: int) -> None:
        """The whole SMS, when the code message had to cut it."""
        private = chat_id != a.chat_id
        try:
            await self.notifier.send_document(
                chat_id, f"sms-{a.phone}.txt", full_sms.encode("utf-8"),
                caption=t("act.sms_file_caption"), reply_to=reply_to,
                thread=None if private else a.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.warning("full SMS of activation %s not sent: %s", a.id, exc)

    async def deliver_pending(self) -> int:
        """Queue the codes stored but not delivered (after a crash, a network failure, a
        chat that was blocked); returns how many. Three queries, however many codes."""
        async with self.db() as session:
            pending = await CodeRepo(session).undelivered()
            ids = {c.id for c in pending if c.id is not None}
            self._done &= ids  # a delivered code leaves once the table says so
            todo = [c for c in pending
                    if c.id not in self._in_flight and c.id not in self._done]
            if not todo:
                return 0
            acts = {a.id: a for a in (await session.exec(select(Activation).where(
                col(Activation.id).in_({c.activation_id for c in todo})))).all()}
            users = {u.id: u for u in (await session.exec(select(User).where(
                col(User.id).in_({a.buyer_id for a in acts.values()})))).all()}
        posted = 0
        for code in todo:
            a = acts.get(code.activation_id)
            if a is None or a.chat_id in self.notifier.unreachable:
                continue
            if self.lock(code.activation_id).locked() or code.id in self._in_flight:
                continue  # being recorded or acted on: this code is queued there or later
            user = users.get(a.buyer_id)
            self.deliver(Recorded(a, code, Translator(user.language if user else None),
                                  dropped_cancel=False), refresh_card=False)
            posted += 1
        return posted
