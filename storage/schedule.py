"""Scheduler bookkeeping: the single-runner lease and exactly-once firings.

Scheduled work (reminders, digests, rectification reminders) is computed from data at
each tick, so a restart loses nothing. Cron-like work records each firing in
``job_firing`` in the same transaction as the outbox rows it writes: a firing done once
is never done again, whichever process or restart gets to it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import JobFiring, SchedulerLease

log = logging.getLogger(__name__)
_reported: set[tuple[str, str, datetime]] = set()  # skipped firings already logged


def acquire_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; False if
    another live holder has it."""
    now = now.astimezone(UTC)  # SQLite compares the stored text: keep every time in UTC
    expires = now + ttl
    res = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    if res.rowcount:
        return True
    try:
        with session.begin_nested():
            session.execute(insert(SchedulerLease).values(name=name, holder=holder, expires_at=expires))
    except IntegrityError:
        return False
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    session.execute(
        update(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
    )


def fire_once(session: Session, job: str, key: str, firing: datetime) -> bool:
    """Record that ``job`` fired for ``key`` at ``firing``; False if that was done already."""
    # Stored in UTC (SQLite keeps no offset); done_at has no server default.
    firing = firing.astimezone(UTC)
    try:
        with session.begin_nested():
            session.execute(insert(JobFiring).values(job=job, key=key, firing=firing, done_at=datetime.now(UTC)))
    except IntegrityError:
        return False
    return True


def last_firing(session: Session, job: str, key: str) -> datetime | None:
    last = session.exec(select(func.max(JobFiring.firing)).where(JobFiring.job == job, JobFiring.key == key)).one()
    if isinstance(last, str):  # SQLite's max() hands back the stored text
        last = datetime.fromisoformat(last)
    return last.replace(tzinfo=UTC) if last is not None and last.tzinfo is None else last


def due_firing(session: Session, job: str, key: str, cron: str, tz: str, now: datetime,
               grace: timedelta) -> datetime | None:
    """The firing of ``cron`` (in time zone ``tz``) to run now, if any: the latest one at or
    before ``now``, when it is within ``grace`` and not yet done. Firings missed for
    longer than ``grace`` (the process was down) are skipped and logged."""
    local_now = now.astimezone(ZoneInfo(tz))
    # croniter's get_prev excludes its base instant: look from just after now, so a tick
    # at exactly 18:00:00 sees the 18:00 firing, not yesterday's.
    latest = croniter(cron, local_now + timedelta(seconds=1)).get_prev(datetime)
    if latest > local_now:
        latest = croniter(cron, local_now).get_prev(datetime)
    last = last_firing(session, job, key)
    if last is not None and last >= latest.astimezone(last.tzinfo or latest.tzinfo):
        return None
    if now - latest > grace:
        if (job, key, latest) not in _reported:  # once per process, not at every tick
            _reported.add((job, key, latest))
            log.info("%s for %s: firing at %s missed by more than %s; skipped", job, key, latest.isoformat(), grace)
        return None
    if last is not None:
        missed = croniter(cron, last.astimezone(ZoneInfo(tz)))
        skipped = 0
        while missed.get_next(datetime) < latest:
            skipped += 1
        if skipped:
            log.info("%s for %s: %d older missed firing(s) skipped", job, key, skipped)
    return latest
