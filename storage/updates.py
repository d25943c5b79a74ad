"""Idempotent update handling."""

from __future__ import annotations

from sqlmodel import Session

from storage.models import ProcessedUpdate


def first_time(session: Session, update_id: int) -> bool:
    """Record ``update_id``; False if it was handled before. The unique key guards races:
    a concurrent duplicate makes its transaction fail at commit instead."""
    if session.get(ProcessedUpdate, update_id) is not None:
        return False
    session.add(ProcessedUpdate(update_id=update_id))
    return True
