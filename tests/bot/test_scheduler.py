"""The scheduler's tick: only the lease holder runs the jobs; a failing job does not stop
the others; a stopped scheduler hands the lease over at once."""

from __future__ import annotations

import asyncio
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
