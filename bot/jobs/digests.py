"""Scheduled digests (filled in by its issue)."""

from __future__ import annotations

from bot.jobs import Job

JOBS: dict[str, Job] = {}
