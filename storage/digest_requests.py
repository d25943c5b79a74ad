"""Digests waiting to be drawn (issue 19): charts are never drawn in the bot's process.

A scheduled firing (``bot/jobs/digests.py``) or an organizer's ``/digest`` writes one
``digest_request`` row per organizer, in the transaction that decides it (the firing's
record, the chat step). A separate worker process (``bot/digest_worker.py``) claims
rows, builds the digest (text and charts) and, in one transaction, writes its outbox
rows and deletes the request. Nothing is lost on a crash: a request stays until its
outbox rows are committed; a claim whose worker died expires (``LEASE``) and the next
worker takes it. The request's ``dedupe_key`` is the prefix of its outbox rows' keys, so
a request done twice (a worker died between commit and exit, two workers) still queues
one digest.

All times are UTC. Functions flush but never commit (``storage.db.session_scope``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, Column, String, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from storage.models import _ts
from storage.types import AwareDateTime

LEASE = timedelta(minutes=5)  # a worker that has not finished a claim by then is taken for dead
MAX_ATTEMPTS = 3  # a digest that failed this often is given up (and logged by the worker)


class DigestRequest(SQLModel, table=True):
    """A digest to draw and queue for one organizer."""

    __tablename__ = "digest_request"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(max_length=40, index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str = Field(max_length=10)
    as_of: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))  # the digest's "now"
    dedupe_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    attempts: int = 0
    claimed_until: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    created_at: datetime = _ts()


def request(session: Session, campaign_id: str, chat_id: int, locale: str, as_of: datetime,
            dedupe_key: str) -> bool:
    """Ask for a digest inside the caller's transaction. False if this key was asked for
    already (and not yet done)."""
    if session.exec(select(DigestRequest.id).where(DigestRequest.dedupe_key == dedupe_key)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(DigestRequest(campaign_id=campaign_id, chat_id=chat_id, locale=locale,
                                      as_of=as_of.astimezone(UTC), dedupe_key=dedupe_key))
    except IntegrityError:
        return False
    return True


def _due(now: datetime):  # noqa: ANN202
    return (or_(DigestRequest.claimed_until.is_(None), DigestRequest.claimed_until < now),
            DigestRequest.attempts < MAX_ATTEMPTS)


def any_due(session: Session, now: datetime | None = None) -> bool:
    """Is there a request no live worker holds? (The bot process asks this; cheap.)"""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return session.exec(select(DigestRequest.id).where(*_due(now)).limit(1)).first() is not None


def claim(session: Session, now: datetime | None = None, limit: int = 50) -> list[DigestRequest]:
    """Take up to ``limit`` due requests for this worker until ``now + LEASE``; each
    claim counts as an attempt."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    q = select(DigestRequest).where(*_due(now)).order_by(DigestRequest.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = list(session.exec(q))
    if rows:
        session.execute(update(DigestRequest).where(DigestRequest.id.in_([r.id for r in rows]))
                        .values(claimed_until=now + LEASE, attempts=DigestRequest.attempts + 1))
        for r in rows:
            session.refresh(r)
            session.expunge(r)
    return rows


def done(session: Session, request_id: int) -> bool:
    """The request's outbox rows are written in this transaction: forget it. False if
    another worker did it meanwhile."""
    return bool(session.execute(delete(DigestRequest).where(DigestRequest.id == request_id)).rowcount)


def failed(session: Session) -> list[DigestRequest]:
    """Requests given up after ``MAX_ATTEMPTS``; removed (the worker logs each)."""
    rows = list(session.exec(select(DigestRequest).where(DigestRequest.attempts >= MAX_ATTEMPTS,
                                                         DigestRequest.claimed_until < datetime.now(UTC))))
    for r in rows:
        session.delete(r)
    return rows


def pending(session: Session) -> int:
    from sqlalchemy import func

    return session.execute(select(func.count()).select_from(DigestRequest)).scalar_one()


def forget_campaign(session: Session, campaign_id: str) -> int:
    """Purge: a campaign's requests name organizers' chats."""
    return session.execute(delete(DigestRequest).where(DigestRequest.campaign_id == campaign_id)).rowcount or 0
