"""The transactional outbox: proactive messages (invitations, reminders, digests,
feedback, notices) are written here in the same transaction as the change that causes
them, and ``bot/sender.py`` drains the table within Telegram's limits.

Life of a row::

    pending --claim--> claimed --mark_sending--> sending --> sent
       ^                  |                         |------> failed       (bad request, or too many transient errors)
       |                  |                         |------> unreachable  (403: blocked; the person too)
       +-- recover -------+                         +------> pending      (retry_later: 429 or transient error)
       +-- recover (lease expired) -----------------+

* ``enqueue`` runs inside the caller's transaction: the message exists iff the change
  that caused it committed. A ``dedupe_key`` makes enqueuing idempotent (one row per key).
* Every row has a ``channel`` (``bot/channel.py``; ``chat_id`` is the address within
  it): a sender claims only its transport's channel's rows, and "a chat" below is a
  (channel, address) pair.
* ``claim`` takes due pending rows for one worker. Only the *head* of each chat's queue is
  claimable (no earlier row of the chat is pending, claimed or sending), so messages to
  one chat go out in id order even across retries and several senders, and a chat that
  must wait (``not_before`` in the future) never holds up the others. On PostgreSQL the
  claim uses ``FOR UPDATE SKIP LOCKED``: concurrent senders never claim the same row. On
  SQLite every transaction is ``BEGIN IMMEDIATE``, so claims are serialized anyway.
* A picture's or file's bytes are stored once per content in ``attachment`` (a digest's
  chart goes to every organizer), the row naming them by SHA-256; a purge drops the ones
  no row has named for an hour (``drop_unused_attachments``).
* ``mark_sending`` is committed on its own, immediately before the row's single HTTP
  call, and only succeeds if the row is still claimed by this worker.

Delivery guarantee. A row is never sent twice in normal operation, nor after a restart
for rows that were only *claimed*: ``recover`` silently returns them to ``pending``.
The one at-least-once corner is a row in ``sending`` whose sender died between the HTTP
call and recording its outcome: Telegram may or may not have delivered it, and we cannot
ask. ``recover`` returns such rows to ``pending`` once their claim is older than the lease
(the lease must exceed the HTTP timeout, so a live sender's call is never second-guessed).
Because each row is marked ``sending`` in its own commit right before its call, at most
the rows a crashed sender had in flight at that instant can be delivered twice; a
message with an attachment and a separate text records the first part (``parts_sent``)
before sending the second, so only the in-flight part can repeat.

All times are UTC. Functions flush but never commit: the caller owns the transaction
(``storage.db.session_scope``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from storage.models import CHANNEL_DEFAULT, Attachment, Outbox, OutboxStatus, Person, PersonStatus, utcnow

STATUSES = ("pending", "claimed", "sending", "sent", "failed", "unreachable")
# Rows that still hold their chat's place in the queue.
ACTIVE = ("pending", "claimed", "sending")
KINDS = ("invitation", "reminder", "digest", "feedback", "notice")
ATTACHMENT_KINDS = ("photo", "document")
ERROR_MAX = 200
# Other rows of the same chat, in the queue-head checks. Built once: an alias copies the
# table's columns, and one per sender poll was cyclic garbage the process kept growing on.
_EARLIER = aliased(Outbox, name="earlier")
_BUSY = aliased(Outbox, name="busy")


def _short(error: str | None) -> str | None:
    if error is None:
        return None
    error = " ".join(str(error).split())
    return error if len(error) <= ERROR_MAX else error[: ERROR_MAX - 1] + "…"


def _run(session: Session, stmt: Any) -> Any:
    # Bulk UPDATEs by id: nothing in the session needs synchronizing.
    return session.execute(stmt, execution_options={"synchronize_session": False})


def _id(row: Outbox | int) -> int:
    return row.id if isinstance(row, Outbox) else row


def _rows(buttons: Iterable[Any]) -> list[list[list[str]]]:
    """Keyboard rows of ``flows.messages.Button`` or ``(label, action)`` pairs -> JSON:
    ``[label, action]``, or ``[label, "", url]`` for a button that opens a Mini App."""
    out: list[list[list[str]]] = []
    for row in buttons or ():
        cells: list[list[str]] = []
        for b in row:
            if hasattr(b, "label") and hasattr(b, "action"):
                if getattr(b, "web_app", None):
                    cells.append([str(b.label), "", str(b.web_app)])
                    continue
                label, action = b.label, b.action
            else:
                label, action = b
            cells.append([str(label), str(action)])
        if cells:
            out.append(cells)
    return out


# The kinds that ask a person to answer a campaign (invitation, opening notice, reminder):
# what /stop cancels.
PROMPTS = ("invitation", "reminder")


def cancel_pending(session: Session, chat_id: int, campaign_id: str, kinds: Iterable[str], reason: str,
                   channel: str = CHANNEL_DEFAULT) -> int:
    """Drop the messages of these kinds about this campaign still waiting for this chat."""
    result = _run(session, update(Outbox)
                  .where(Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.campaign_id == campaign_id,
                         Outbox.status == OutboxStatus.PENDING, Outbox.kind.in_(tuple(kinds)))
                  .values(status=OutboxStatus.FAILED, error=reason))
    return result.rowcount


def enqueue(session: Session, chat_id: int, kind: str, text: str, buttons: Iterable[Any] = (),
            attachment: bytes | None = None, filename: str | None = None,
            attachment_kind: str | None = None, dedupe_key: str | None = None,
            not_before: datetime | None = None, campaign_id: str | None = None,
            channel: str = CHANNEL_DEFAULT) -> Outbox | None:
    """Add a message to the outbox inside the caller's transaction. ``campaign_id``: the
    campaign it is about (its rows go when the campaign's personal data is purged).
    ``chat_id`` is the recipient's address within ``channel`` (a person's: pass
    ``person.channel``); only a sender of that channel sends the row.

    Returns the new row, or None if a row with the same ``dedupe_key`` already exists.
    """
    if not kind:
        raise ValueError("kind is required")
    keyboard = _rows(buttons)
    if attachment is not None:
        attachment_kind = attachment_kind or "photo"
        if attachment_kind not in ATTACHMENT_KINDS:
            raise ValueError(f"attachment_kind must be one of {ATTACHMENT_KINDS}, got {attachment_kind!r}")
        filename = filename or ("chart.png" if attachment_kind == "photo" else "document")
        if keyboard and not text:
            raise ValueError("buttons need a text to go with (Telegram sends them on the text message)")
    elif not text:
        raise ValueError("a message needs a text or an attachment")
    else:
        attachment_kind = filename = None
    if dedupe_key is not None and session.exec(
            select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first() is not None:
        return None
    sha256 = _store_attachment(session, attachment) if attachment is not None else None
    row = Outbox(channel=channel, chat_id=chat_id, kind=kind, text=text or "", buttons=keyboard,
                 attachment_sha256=sha256, filename=filename, attachment_kind=attachment_kind,
                 dedupe_key=dedupe_key, not_before=not_before or utcnow(), campaign_id=campaign_id)
    if dedupe_key is None:
        session.add(row)
        session.flush()
        return row
    # A concurrent transaction may insert the same key between the check and the insert
    # (PostgreSQL). A savepoint keeps the caller's transaction usable when that happens.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def _store_attachment(session: Session, data: bytes) -> str:
    """The bytes in ``attachment`` (once per content); returns their SHA-256 (hex).

    A stored attachment is touched (``used_at``) rather than read: the row lock this takes
    on PostgreSQL makes a concurrent ``drop_unused_attachments`` wait for this transaction
    and then spare the attachment, which it would not see named by our uncommitted row."""
    sha256 = hashlib.sha256(data).hexdigest()
    touched = _run(session, update(Attachment).where(Attachment.sha256 == sha256).values(used_at=utcnow()))
    if touched.rowcount == 0:
        # Another transaction may store the same bytes meanwhile (PostgreSQL): theirs do.
        try:
            with session.begin_nested():
                session.add(Attachment(sha256=sha256, data=data))
        except IntegrityError:
            pass
    return sha256


def attachment_data(session: Session, row: Outbox | int) -> bytes | None:
    """The bytes of a row's picture or file (None: the row has none, or it is gone)."""
    sha256 = row.attachment_sha256 if isinstance(row, Outbox) else session.exec(
        select(Outbox.attachment_sha256).where(Outbox.id == row)).first()
    if sha256 is None:
        return None
    return session.exec(select(Attachment.data).where(Attachment.sha256 == sha256)).first()


UNUSED_FOR = timedelta(hours=1)  # an attachment named by no row for this long may go


def drop_unused_attachments(session: Session, now: datetime | None = None) -> int:
    """Delete the attachments no outbox row names, unused for ``UNUSED_FOR`` (after a
    purge). One being named by a transaction still open was touched by it: spared."""
    used = select(Outbox.id).where(Outbox.attachment_sha256 == Attachment.sha256).exists()
    cutoff = (now or utcnow()) - UNUSED_FOR
    return _run(session, delete(Attachment).where(Attachment.used_at < cutoff, ~used)).rowcount


def claim(session: Session, worker: str, limit: int, now: datetime | None = None,
          channel: str = CHANNEL_DEFAULT) -> list[Outbox]:
    """Claim up to ``limit`` due pending rows of ``channel`` (heads of their chats'
    queues) for ``worker``."""
    if limit <= 0:
        return []
    now = now or utcnow()
    earlier = _EARLIER
    blocked = (select(earlier.id)
               .where(earlier.channel == Outbox.channel, earlier.chat_id == Outbox.chat_id, earlier.id < Outbox.id,
                      earlier.status.in_(ACTIVE))
               .exists())
    stmt = (select(Outbox)
            .where(Outbox.channel == channel, Outbox.status == OutboxStatus.PENDING, Outbox.not_before <= now,
                   ~blocked)
            .order_by(Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True))  # PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE)
    rows = list(session.exec(stmt).all())
    for row in rows:
        row.status = OutboxStatus.CLAIMED
        row.claimed_by = worker
        row.claimed_at = now
        session.add(row)
    session.flush()
    return rows


def mark_sending(session: Session, row: Outbox | int, worker: str, now: datetime | None = None) -> bool:
    """claimed -> sending, only if still claimed by ``worker``. Commit it on its own right
    before the HTTP call. False: the row was taken back (``recover``); do not send it.
    The claim time is refreshed: the lease counts from the start of sending."""
    row_id = _id(row)
    result = _run(session,
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == OutboxStatus.CLAIMED, Outbox.claimed_by == worker)
        .values(status=OutboxStatus.SENDING, claimed_at=now or utcnow()))
    return result.rowcount == 1


def mark_part_sent(session: Session, row: Outbox | int, parts_sent: int) -> None:
    """Record that the first part(s) of a two-part message were delivered."""
    row_id = _id(row)
    _run(session, update(Outbox).where(Outbox.id == row_id).values(parts_sent=parts_sent))


def mark_sent(session: Session, row: Outbox | int, now: datetime | None = None) -> None:
    row_id = _id(row)
    _run(session, update(Outbox).where(Outbox.id == row_id)
                    .values(status=OutboxStatus.SENT, sent_at=now or utcnow(), error=None,
                            attempts=Outbox.attempts + 1))


def retry_later(session: Session, row: Outbox | int, not_before: datetime, error: str | None,
                *, count_attempt: bool = True) -> None:
    """Back to pending, due at ``not_before``. A 429 passes ``count_attempt=False``:
    flood control is not the message's fault."""
    row_id = _id(row)
    values: dict[str, Any] = {"status": OutboxStatus.PENDING, "not_before": not_before, "error": _short(error),
                              "claimed_by": None, "claimed_at": None}
    if count_attempt:
        values["attempts"] = Outbox.attempts + 1
    _run(session, update(Outbox).where(Outbox.id == row_id).values(**values))


def mark_failed(session: Session, row: Outbox | int, error: str | None) -> None:
    row_id = _id(row)
    _run(session, update(Outbox).where(Outbox.id == row_id)
                    .values(status=OutboxStatus.FAILED, error=_short(error), attempts=Outbox.attempts + 1))


def mark_unreachable(session: Session, row: Outbox | int, error: str | None = None) -> int:
    """403: the person blocked the bot. The row, the chat's other waiting rows and the
    person (``Person.status``) become unreachable. Returns how many rows changed."""
    row_id = _id(row)
    channel, chat_id = session.exec(select(Outbox.channel, Outbox.chat_id).where(Outbox.id == row_id)).one()
    error = _short(error or "blocked")
    _run(session, update(Outbox).where(Outbox.id == row_id)
                    .values(status=OutboxStatus.UNREACHABLE, error=error, attempts=Outbox.attempts + 1))
    others = _run(session,
        update(Outbox)
        .where(Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.id != row_id, Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.CLAIMED)))
        .values(status=OutboxStatus.UNREACHABLE, error=error, claimed_by=None, claimed_at=None))
    _run(session, update(Person).where(Person.channel == channel, Person.chat_id == chat_id)
         .values(status=PersonStatus.UNREACHABLE))
    return 1 + (others.rowcount or 0)


def release(session: Session, worker: str, row_ids: Sequence[int]) -> int:
    """Give rows this worker claimed but did not start back to pending (clean shutdown)."""
    if not row_ids:
        return 0
    result = _run(session,
        update(Outbox)
        .where(Outbox.id.in_(list(row_ids)), Outbox.status == OutboxStatus.CLAIMED, Outbox.claimed_by == worker)
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None))
    return result.rowcount or 0


def recover(session: Session, lease_seconds: float, now: datetime | None = None,
            *, claimed_grace: float = 0.0, channel: str | None = None) -> dict[str, int]:
    """After a crash: 'claimed' rows (never attempted) back to pending, silently; 'sending'
    rows whose claim is older than the lease back to pending too (the at-least-once corner,
    see the module docstring). ``claimed_grace`` spares claims younger than that many
    seconds (a periodic recover next to live senders passes the lease). ``channel``: only
    that channel's rows (a sender recovers its own channel's); None: every channel's."""
    now = now or utcnow()
    mine = (Outbox.channel == channel,) if channel is not None else ()
    claimed = _run(session,
        update(Outbox)
        .where(*mine, Outbox.status == OutboxStatus.CLAIMED,
               or_(Outbox.claimed_at.is_(None), Outbox.claimed_at <= now - timedelta(seconds=claimed_grace)))
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)).rowcount or 0
    sending = _run(session,
        update(Outbox)
        .where(*mine, Outbox.status == OutboxStatus.SENDING,
               or_(Outbox.claimed_at.is_(None), Outbox.claimed_at < now - timedelta(seconds=lease_seconds)))
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None, error="recovered after a crash")
    ).rowcount or 0
    return {"claimed": claimed, "sending": sending}


def outstanding(session: Session, channel: str = CHANNEL_DEFAULT) -> tuple[int, datetime | None]:
    """Pending rows of ``channel`` a sender could eventually claim (their chat has no row
    claimed or being sent by someone), and when the first of them falls due (the earliest
    ``not_before`` among the heads of the chats' queues)."""
    busy = _BUSY
    in_hand = (select(busy.id)
               .where(busy.channel == Outbox.channel, busy.chat_id == Outbox.chat_id,
                      busy.status.in_((OutboxStatus.CLAIMED, OutboxStatus.SENDING)))
               .exists())
    n = session.execute(select(func.count(Outbox.id)).where(
        Outbox.channel == channel, Outbox.status == OutboxStatus.PENDING, ~in_hand)).scalar_one()
    if not n:
        return 0, None
    earlier = _EARLIER
    behind = (select(earlier.id)
              .where(earlier.channel == Outbox.channel, earlier.chat_id == Outbox.chat_id, earlier.id < Outbox.id,
                     earlier.status.in_(ACTIVE))
              .exists())
    first = session.execute(select(func.min(Outbox.not_before))
                            .where(Outbox.channel == channel, Outbox.status == OutboxStatus.PENDING,
                                   ~behind)).scalar_one()
    return int(n), first


def counts(session: Session) -> dict[str, int]:
    """Number of rows per status (every status present, zeros included)."""
    out = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(select(Outbox.status, func.count(Outbox.id)).group_by(Outbox.status)):
        out[status] = int(n)
    return out
