"""Idempotent update handling, and pruning of the record it keeps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import ProcessedUpdate, utcnow


# On the table, not the ORM class (a plain INSERT, no ORM bulk machinery), built once.
_INSERT = insert(ProcessedUpdate.__table__)


def first_time(session: Session, update_id: int) -> bool:
    """Record ``update_id``; False if it was handled before.

    A plain INSERT (one round trip): the primary key refuses a repeat, also a concurrent
    one. On False the transaction has been rolled back, so call this first."""
    try:
        session.connection().execute(_INSERT, {"update_id": update_id, "handled_at": utcnow()})
    except IntegrityError:
        session.rollback()
        return False
    return True


def prune(session: Session, before: datetime) -> int:
    """Forget update ids handled before ``before`` (Telegram redelivers for a day at most)."""
    res = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < before))
    return res.rowcount or 0
