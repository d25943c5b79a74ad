"""The webhook's intake: an outage spanning many deliveries parks nothing; an update that
keeps failing while the database answers is parked even when each delivery tries little."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from bot.telegram import intake as intake_module
from bot.telegram.intake import Intake
from storage import parked
from storage.db import make_engine, session_scope

UPDATE = {"update_id": 7, "message": {"message_id": 1, "chat": {"id": 42, "type": "private"}, "text": "hi"}}


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(intake_module, "BACKOFF", (0.0,))


class Feed:
    """The framework's dispatch: fails like an unreachable database ``failing`` more times."""

    def __init__(self) -> None:
        self.failing, self.applied = 10**6, []

    async def __call__(self, update: dict) -> None:
        if self.failing:
            self.failing -= 1
            raise OperationalError("select 1", {}, ConnectionRefusedError("connection refused"))
        self.applied.append(update["update_id"])


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_an_outage_over_many_webhook_deliveries_parks_nothing(engine):
    feed = Feed()
    gone = make_engine("postgresql+psycopg://minping@127.0.0.1:1/none")  # nothing listens there
    intake = Intake(engine=gone, feed=feed)
    for _ in range(30):  # Telegram delivers it again and again while the database is away
        assert await intake.take_webhook(UPDATE) is False
    # Back, but the first delivery after it still fails (stale pooled connections).
    intake.engine, feed.failing = engine, intake_module.WEBHOOK_TRIES
    assert await intake.take_webhook(UPDATE) is False
    assert await intake.take_webhook(UPDATE) is True
    assert feed.applied == [7] and intake.parked == 0
    with session_scope(engine) as s:
        assert parked.listing(s) == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_failing_while_the_database_answers_parks_across_deliveries(engine):
    feed = Feed()  # a transient-looking error, yet the database answers: poison
    intake = Intake(engine=engine, feed=feed)
    assert await intake.take_webhook(UPDATE) is False  # 3 tries: delivered again later
    assert await intake.take_webhook(UPDATE) is True  # tries 4 and 5: parked, acknowledged
    assert intake.parked == 1 and feed.applied == []
    with session_scope(engine) as s:
        assert [p.update_id for p in parked.listing(s)] == [7]


async def test_a_flood_warning_that_meets_telegrams_limit_waits_its_turn():
    """The answers to a flood's first updates use up the chat's Telegram limit: the
    "slow down" warning gets a 429 and is sent after its retry_after, once."""
    import asyncio

    from bot.channel import RetryAfter

    sent: list[int] = []
    refusals = [RetryAfter(0.2), RetryAfter(0.2)]

    async def warn(update: dict) -> None:
        if refusals:
            raise refusals.pop(0)
        sent.append(update["update_id"])

    intake = Intake(engine=make_engine("sqlite://"), feed=None, warn=warn)
    verdicts = [intake.arrive({"update_id": i, "message": {"chat": {"id": 602}, "text": f"spam {i}"}})
                for i in range(40)]
    assert verdicts.count(True) == intake.flood.backlog  # the rest dropped, the first dropped one warns
    for _ in range(50):
        if sent:
            break
        await asyncio.sleep(0.05)
    assert sent == [intake.flood.backlog] and not refusals
    await asyncio.sleep(0.3)
    assert len(sent) == 1


async def _flood_with_refusals(refusals) -> list[int]:  # noqa: ANN001
    """40 messages from one chat; the warning's sends are refused with ``refusals`` first.
    The update ids the warning went out for, after up to 3 s."""
    import asyncio

    sent: list[int] = []

    async def warn(update: dict) -> None:
        if refusals:
            raise refusals.pop(0)
        sent.append(update["update_id"])

    intake = Intake(engine=make_engine("sqlite://"), feed=None, warn=warn)
    for i in range(40):
        intake.arrive({"update_id": i, "message": {"chat": {"id": 602}, "text": f"spam {i}"}})
    for _ in range(60):
        if sent:
            break
        await asyncio.sleep(0.05)
    return sent


async def test_a_flood_warning_outlasts_many_short_refusals():
    """The flood's first answers may win the chat's next slot again and again (seen on a
    loaded machine: three 1 s waits, all lost): the warning keeps its turn."""
    from bot.channel import RetryAfter

    refusals = [RetryAfter(0.1) for _ in range(8)]
    assert await _flood_with_refusals(refusals) == [20] and not refusals


async def test_a_flood_warning_gives_up_after_its_patience(monkeypatch, caplog):
    from bot.channel import RetryAfter

    monkeypatch.setattr(intake_module, "WARN_PATIENCE", 0.5)
    refusals = [RetryAfter(0.2) for _ in range(20)]
    with caplog.at_level("INFO", logger="bot.telegram.intake"):
        assert await _flood_with_refusals(refusals) == []
    assert len(refusals) == 20 - 3  # refused at 0, 0.2 and 0.4 s; a fourth wait would pass 0.5 s
    assert "flood warning not sent: still rate-limited" in caplog.text
