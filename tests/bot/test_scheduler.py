"""The scheduler's tick: only the lease holder runs the jobs; a failing job does not stop
the others; a stopped scheduler hands the lease over at once."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduler import Scheduler

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def counting_jobs(log: list[str], name: str):
    def job(engine, now):  # noqa: ANN001, ANN202
        log.append(name)
        return 2
    return {"count": job}


def test_only_the_lease_holder_runs_jobs(engine):
    clock, runs = Clock(), []
    a = Scheduler(engine, clock, tick_seconds=10, jobs=counting_jobs(runs, "a"), holder="a")
    b = Scheduler(engine, clock, tick_seconds=10, jobs=counting_jobs(runs, "b"), holder="b")
    assert a.tick() == {"count": 2}
    assert b.tick() == {}
    clock.now += timedelta(seconds=10)
    assert a.tick() == {"count": 2} and b.tick() == {}
    assert runs == ["a", "a"]
    # a stops ticking (crashed): after the lease's time b takes over.
    clock.now += timedelta(seconds=3 * 10 + 30 + 1)
    assert b.tick() == {"count": 2}
    assert a.tick() == {}
    assert runs == ["a", "a", "b"]


def test_a_failing_job_does_not_stop_the_others(engine, caplog):
    done = []

    def broken(engine, now):  # noqa: ANN001, ANN202
        raise ValueError("bad data")

    def fine(engine, now):  # noqa: ANN001, ANN202
        done.append(now)
        return 1

    s = Scheduler(engine, Clock(), jobs={"broken": broken, "fine": fine}, holder="a")
    assert s.tick() == {"fine": 1}
    assert done == [NOW]
    assert "scheduled job broken failed" in caplog.text


async def test_started_scheduler_ticks_and_stop_hands_over_the_lease(engine):
    ran = asyncio.Event()
    loop = asyncio.get_running_loop()

    def job(engine, now):  # noqa: ANN001, ANN202
        loop.call_soon_threadsafe(ran.set)
        return 1

    a = Scheduler(engine, tick_seconds=60, jobs={"job": job}, holder="a")
    a.start()  # the first tick runs at once
    await asyncio.wait_for(ran.wait(), 10)
    await a.stop_async()
    b = Scheduler(engine, tick_seconds=60, jobs={"job": lambda e, n: 1}, holder="b")
    assert b.tick() == {"job": 1}  # no need to wait for a's lease to expire


async def test_a_tick_that_starts_late_still_runs(engine):
    """A loop busy for longer than APScheduler's default grace (1 s) at a tick's time: the
    tick runs late instead of being skipped (with a "missed by" or "maximum number of running
    instances" warning) until the next, even when the previous tick's end is not yet processed."""
    loop = asyncio.get_running_loop()
    ran = asyncio.Event()

    def job(engine, now):  # noqa: ANN001, ANN202
        loop.call_soon_threadsafe(ran.set)
        time.sleep(0.3)  # the tick ends while the loop is blocked: its end and the next tick are due together
        return 0

    a = Scheduler(engine, tick_seconds=3, jobs={"job": job}, holder="late")
    a.start()
    await asyncio.wait_for(ran.wait(), 10)  # the first tick, at once
    ran.clear()
    time.sleep(4.6)  # the loop is blocked past the next tick's time (3 s) and the grace
    await asyncio.wait_for(ran.wait(), 1)  # the late tick runs now, not at the one after (6 s)
    await a.stop_async()


async def test_a_long_tick_is_never_overlapped_by_the_next(engine):
    """Jobs are not written to run twice at once: a tick longer than the interval makes the
    next ones wait (coalesced), whatever APScheduler's own instance count allows."""
    lock = threading.Lock()
    at_once, most, runs = 0, 0, 0

    def job(engine, now):  # noqa: ANN001, ANN202
        nonlocal at_once, most, runs
        with lock:
            at_once += 1
            runs += 1
            most = max(most, at_once)
        time.sleep(2.5)  # longer than two intervals
        with lock:
            at_once -= 1
        return 0

    a = Scheduler(engine, tick_seconds=1, jobs={"job": job}, holder="long")
    a.start()
    await asyncio.sleep(6)
    await a.stop_async()
    assert runs >= 2  # it went on ticking after the long tick
    assert most == 1


async def test_stopping_waits_for_the_tick_in_progress_before_handing_the_lease_back(engine):
    """SIGTERM during a tick: the lease is handed back only once the tick's jobs ended, so
    another worker never runs the same jobs beside them."""
    started, ended = threading.Event(), threading.Event()

    def job(engine, now):  # noqa: ANN001, ANN202
        started.set()
        time.sleep(2)
        ended.set()
        return 0

    # APScheduler's own log: a tick cut short by stopping is not "a job that raised".
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("apscheduler").addHandler(handler)
    a = Scheduler(engine, tick_seconds=60, jobs={"job": job}, holder="stopping")
    try:
        a.start()
        while not started.is_set():
            await asyncio.sleep(0.05)
        await a.stop_async()
        await asyncio.sleep(0.1)  # APScheduler logs the cancelled tick's outcome on its next turn
    finally:
        logging.getLogger("apscheduler").removeHandler(handler)
    assert ended.is_set()  # it waited for the job
    assert [r.getMessage() for r in records] == []
    b = Scheduler(engine, tick_seconds=60, jobs={"job": lambda e, n: 1}, holder="next")
    assert b.tick() == {"job": 1}  # and then handed the lease over
