"""Parked (poison) updates: an update that fails for a reason that is not transient, or
keeps failing while the database answers, is set aside here with its error so that its
chat goes on (``bot/telegram/intake.py``). ``minping updates --parked`` lists them;
``--retry`` asks the running bot to feed them again.

The stored update is Telegram's JSON: it may hold a chat id beside a tap or a text, like
a draft does. It is deleted once replayed; ``minping updates --drop`` deletes it for good.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, update
from sqlmodel import Field, Session, SQLModel, delete, select

from storage.models import utcnow
from storage.types import AwareDateTime

MAX_ERROR = 500


class ParkedUpdate(SQLModel, table=True):
    __tablename__ = "parked_update"
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=30)  # message | callback_query | …
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    error: str = Field(max_length=MAX_ERROR)
    attempts: int = 1
    parked_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime(), nullable=False))
    retry_requested: bool = False


def update_kind(payload: dict) -> str:
    return next((k for k in payload if k != "update_id"), "unknown")[:30]


def park(session: Session, payload: dict, error: str, attempts: int) -> None:
    """Set an update aside (again, after a failed replay: the newest error counts)."""
    update_id = int(payload["update_id"])
    row = session.get(ParkedUpdate, update_id)
    if row is None:
        row = ParkedUpdate(update_id=update_id, kind=update_kind(payload), payload=payload, error=error[:MAX_ERROR],
                           attempts=attempts)
    else:
        row.error, row.attempts, row.retry_requested = error[:MAX_ERROR], row.attempts + attempts, False
        row.parked_at = utcnow()
    session.add(row)


def listing(session: Session) -> list[ParkedUpdate]:
    return list(session.exec(select(ParkedUpdate).order_by(ParkedUpdate.update_id)))


def request_retry(session: Session, update_ids: list[int] | None = None) -> int:
    """Ask the running bot to feed these parked updates (all when None) again."""
    stmt = update(ParkedUpdate).values(retry_requested=True)
    if update_ids is not None:
        stmt = stmt.where(ParkedUpdate.update_id.in_(update_ids))
    return session.execute(stmt).rowcount or 0


def claim_retries(session: Session, limit: int = 50) -> list[dict]:
    """Take the updates whose replay was asked for: each is claimed by one process (the
    conditional UPDATE) and removed; a replay that fails parks it again."""
    ids = list(session.exec(select(ParkedUpdate.update_id).where(ParkedUpdate.retry_requested.is_(True))
                            .order_by(ParkedUpdate.update_id).limit(limit)))
    payloads = []
    for update_id in ids:
        row = session.get(ParkedUpdate, update_id)
        claimed = session.execute(delete(ParkedUpdate).where(ParkedUpdate.update_id == update_id,
                                                             ParkedUpdate.retry_requested.is_(True))).rowcount
        if claimed and row is not None:
            payloads.append(row.payload)
    return payloads


def drop(session: Session, update_ids: list[int]) -> int:
    return session.execute(delete(ParkedUpdate).where(ParkedUpdate.update_id.in_(update_ids))).rowcount or 0
