"""Idempotent update handling, and pruning of the record it keeps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert
from sqlmodel import Session

from storage.direct import Direct
from storage.models import CHANNEL_DEFAULT, ProcessedUpdate, utcnow

# Run straight on the driver (``storage.direct``): once per update, so its cost counts.
_INSERT = Direct(insert(ProcessedUpdate.__table__).values(channel=bindparam("channel"),
                                                            update_id=bindparam("update_id"),
                                                            handled_at=bindparam("handled_at")))


def first_time(session: Session, update_id: int, channel: str = CHANNEL_DEFAULT) -> bool:
    """Record ``update_id`` of ``channel``; False if it was handled before. Each channel
    numbers its updates itself: the same id on two channels is two updates.

    A plain INSERT (one round trip): the primary key refuses a repeat, also a concurrent
    one. On False the transaction has been rolled back, so call this first."""
    try:
        _INSERT.run(session, channel=channel, update_id=update_id, handled_at=utcnow())
    except session.get_bind().dialect.loaded_dbapi.IntegrityError:  # the driver's own (storage.direct)
        session.rollback()
        return False
    return True


def prune(session: Session, before: datetime) -> int:
    """Forget update ids handled before ``before`` (Telegram redelivers for a day at most)."""
    res = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < before))
    return res.rowcount or 0
