"""Scheduled jobs, one module per area. A job is ``fn(engine, now) -> int``: it does the
work due at ``now`` (computed from data, so it is idempotent and restart-safe) and
returns how many items it handled. ``bot/scheduler.py`` runs them at every tick."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

Job = Callable[[Engine, datetime], int]


def all_jobs() -> dict[str, Job]:
    from bot.jobs import chain, digests, housekeeping, openings, rectification, reminders, retention

    jobs: dict[str, Job] = {}
    for module in (chain, openings, reminders, digests, rectification, housekeeping, retention):
        jobs.update(module.JOBS)
    return jobs
