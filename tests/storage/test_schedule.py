"""The scheduler's bookkeeping on both databases: one lease holder at a time, each
firing done exactly once, due firings found in the campaign's time zone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from storage import schedule
from storage.db import session_scope
from storage.models import JobFiring

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 3, 2, 1, 10, tzinfo=UTC)  # Monday 09:10 in Shanghai
TTL = timedelta(seconds=60)
SHANGHAI = "Asia/Shanghai"
MONDAY_9 = "0 9 * * 1"


def lease(engine, holder: str, now: datetime) -> bool:
    with session_scope(engine) as s:
        return schedule.acquire_lease(s, "scheduler", holder, now, TTL)


def test_one_holder_at_a_time_and_takeover_after_expiry(engine):
    assert lease(engine, "a", NOW)
    assert not lease(engine, "b", NOW + timedelta(seconds=30))
    assert lease(engine, "a", NOW + timedelta(seconds=50))  # renewed until +110 s
    assert not lease(engine, "b", NOW + timedelta(seconds=100))
    assert lease(engine, "b", NOW + timedelta(seconds=111))  # a went quiet: b takes over
    assert not lease(engine, "a", NOW + timedelta(seconds=112))


def test_released_lease_is_free_at_once(engine):
    assert lease(engine, "a", NOW)
    with session_scope(engine) as s:
        schedule.release_lease(s, "scheduler", "b")  # not b's to release: no effect
    assert not lease(engine, "b", NOW)
    with session_scope(engine) as s:
        schedule.release_lease(s, "scheduler", "a")
    assert lease(engine, "b", NOW)


def test_lease_times_in_other_zones_compare_correctly(engine):
    # The same instant written in Shanghai time must not look 8 hours later.
    assert lease(engine, "a", NOW)
    assert not lease(engine, "b", (NOW + timedelta(seconds=30)).astimezone(ZoneInfo(SHANGHAI)))


def test_fire_once_is_exactly_once(engine):
    firing = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(SHANGHAI))
    with session_scope(engine) as s:
        assert schedule.fire_once(s, "digest", "c1", firing)
        assert not schedule.fire_once(s, "digest", "c1", firing)  # same transaction
        assert schedule.fire_once(s, "digest", "c2", firing)  # another key
    with session_scope(engine) as s:
        assert not schedule.fire_once(s, "digest", "c1", firing.astimezone(UTC))  # same instant, UTC
        assert schedule.fire_once(s, "reminder", "c1", firing)  # another job
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(JobFiring)).one() == 3


def test_fire_once_rolled_back_with_its_transaction(engine):
    firing = NOW
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        assert schedule.fire_once(s, "digest", "c1", firing)
        raise RuntimeError("the outbox rows failed")
    with session_scope(engine) as s:  # nothing was recorded: it can fire now
        assert schedule.fire_once(s, "digest", "c1", firing)


def test_concurrent_fire_once_only_one_wins(engine):
    firing = NOW
    barrier = threading.Barrier(4)
    wins: list[bool] = []

    def worker() -> None:
        barrier.wait()
        with session_scope(engine) as s:
            wins.append(schedule.fire_once(s, "digest", "c1", firing))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(wins) == [False, False, False, True]


def due(engine, now: datetime, grace: timedelta = timedelta(hours=1), tz: str = SHANGHAI):
    with session_scope(engine) as s:
        return schedule.due_firing(s, "digest", "c1", MONDAY_9, tz, now, grace)


def test_due_within_grace_fires_once(engine):
    firing = due(engine, NOW)
    assert firing == datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(SHANGHAI))
    with session_scope(engine) as s:
        assert schedule.fire_once(s, "digest", "c1", firing)
    assert due(engine, NOW + timedelta(minutes=5)) is None  # done already
    assert due(engine, NOW + timedelta(days=7)) == firing + timedelta(days=7)  # next Monday


def test_due_outside_grace_is_skipped(engine):
    assert due(engine, NOW + timedelta(hours=2)) is None  # down at 09:00, back at 11:10
    assert due(engine, NOW + timedelta(hours=2), grace=timedelta(hours=3)) is not None


def test_due_respects_the_time_zone(engine):
    # Monday 09:10 UTC is 17:10 in Shanghai: the 09:00 Shanghai firing is 8 hours old.
    utc_nine = datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    assert due(engine, utc_nine) is None
    assert due(engine, utc_nine, tz="UTC") == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert due(engine, datetime(2026, 3, 2, 0, 50, tzinfo=UTC)) is None  # 08:50 in Shanghai: not yet


def test_after_missed_firings_only_the_latest_runs(engine):
    with session_scope(engine) as s:
        assert schedule.fire_once(s, "digest", "c1", datetime(2026, 2, 9, 9, 0, tzinfo=ZoneInfo(SHANGHAI)))
    # Two Mondays were missed while down; only today's (within grace) fires.
    assert due(engine, NOW) == datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(SHANGHAI))


def test_a_tick_at_the_exact_firing_instant_fires_it(engine):
    firing = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(SHANGHAI))
    assert due(engine, firing) == firing
    assert due(engine, firing - timedelta(milliseconds=500)) is None  # never early


def test_a_skipped_firing_is_logged_once_not_at_every_tick(engine, caplog):
    caplog.set_level("INFO", logger="storage.schedule")
    schedule._reported.clear()  # other tests skipped the same firing in this process
    for minutes in (0, 1, 2):  # three ticks while the 09:00 firing is too old
        assert due(engine, NOW + timedelta(hours=2, minutes=minutes)) is None
    assert len([r for r in caplog.records if "missed by more than" in r.message]) == 1
