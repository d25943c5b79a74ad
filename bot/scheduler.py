"""The scheduler: APScheduler ticks, every job does what is due, one process at a time.

APScheduler (AsyncIOScheduler) fires a tick every ``tick_seconds``; each tick first takes
the database lease (``storage/schedule.py``) so that with several workers exactly one
runs the jobs, then runs every job of ``bot/jobs`` for the current time on a worker
thread. Jobs compute their due work from the database, so a restart misses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot import metrics
from bot.jobs import Job, all_jobs
from storage import schedule
from bot.outage import database
from storage.db import is_transient, session_scope

log = logging.getLogger(__name__)
LEASE = "scheduler"


class Scheduler:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 tick_seconds: float = 30.0, jobs: dict[str, Job] | None = None, holder: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.jobs = all_jobs() if jobs is None else jobs
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._aps: AsyncIOScheduler | None = None
        self._running: asyncio.Future | None = None  # the tick in progress, if any

    def tick(self) -> dict[str, int]:
        """Run every due job once, if this process holds the lease. Returns work done."""
        now = self.clock()
        try:
            with session_scope(self.engine) as s:
                held = schedule.acquire_lease(s, LEASE, self.holder, now,
                                              timedelta(seconds=3 * self.tick_seconds + 30))
        except Exception as exc:
            if not is_transient(exc):
                raise
            database.failed(exc)  # paused: the next tick tries again; jobs catch up from the database
            return {}
        database.succeeded()
        metrics.LEASE_HELD.set(1 if held else 0)
        if not held:
            return {}
        done: dict[str, int] = {}
        for name, job in self.jobs.items():
            try:
                done[name] = job(self.engine, now)
                metrics.JOB_RUNS.labels(name, "ok").inc()
                metrics.JOB_ITEMS.labels(name).inc(done[name] or 0)
            except Exception as exc:  # one failing job must not stop the others
                metrics.JOB_RUNS.labels(name, "error").inc()
                if is_transient(exc):
                    database.failed(exc)
                    break  # the rest would fail alike; the next tick does what is due
                log.exception("scheduled job %s failed", name)
        return done

    async def _tick(self) -> None:
        # Overlap is judged here, on the worker thread's result, not by APScheduler's instance
        # count: after a blocked loop, a finished tick may still count as running for one turn.
        if self._running is not None and not self._running.done():
            return  # a long tick is still at work: this one coalesces into it
        running = self._running = asyncio.get_running_loop().run_in_executor(None, self.tick)
        try:
            # Shielded: stopping cancels this task, but the thread goes on until its jobs
            # commit or roll back; stop_async waits for ``running`` before handing the lease back.
            done = await asyncio.shield(running)
        except asyncio.CancelledError:
            return  # stopping (APScheduler's shutdown): not a failure of the job to log
        finally:
            if self._running is running:
                self._running = None
        if any(done.values()):
            log.info("scheduler tick: %s", ", ".join(f"{k} {v}" for k, v in done.items() if v))

    def start(self) -> None:
        self._aps = AsyncIOScheduler(timezone=UTC)
        # A tick that starts late (a busy loop, a long previous tick) still runs, once
        # (coalesce), and is not skipped with a warning (misfire_grace_time=None); _tick
        # itself keeps two ticks from overlapping, so APScheduler may start a second instance.
        self._aps.add_job(self._tick, IntervalTrigger(seconds=self.tick_seconds), id="tick", coalesce=True,
                          max_instances=2, misfire_grace_time=None, next_run_time=datetime.now(UTC))
        self._aps.start()

    def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        try:
            with session_scope(self.engine) as s:
                schedule.release_lease(s, LEASE, self.holder)
        except Exception as exc:  # the database is away: the lease simply expires
            if not is_transient(exc):
                raise
            log.warning("scheduler lease not handed back (database unreachable); it expires by itself")
        metrics.LEASE_HELD.set(0)

    async def stop_async(self) -> None:
        """Stop ticking, let a tick in progress finish (its jobs commit or roll back
        whole), then hand the lease back so another process can take over at once."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self.stop)
