"""Issue 12, item 9: a campaign can be rehearsed on a compressed clock
(MINPING_CLOCK=rehearse:<start>:<factor>): the opening, the reminders and every
command's phase follow campaign time, in seconds instead of days. Refused on a database
with real ballots; a rehearsal database is refused by ``minping run`` on the real clock."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from devtools.devserver import BotAPIServer
from bot.settings import get_settings
from flows.campaign import Campaign
from storage import people
from storage.db import session_scope
from storage.models import CampaignRow
from storage.rehearsal import MetaRow
from tests.cli_env import example
from tests.run_process import MinpingRun, database_url

pytestmark = pytest.mark.postgres


def _opens(engine) -> datetime:
    with session_scope(engine) as s:
        return s.get(CampaignRow, "county-2026").opens


def _spec(start: datetime, factor: float) -> str:
    return f"rehearse:{start.astimezone(UTC).isoformat(timespec='seconds')}:{factor:g}"


def _meta(engine):
    with session_scope(engine) as s:
        return s.get(MetaRow, "rehearsal")


def test_rehearsal_is_refused_where_ballots_are_real(cli, monkeypatch):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    with session_scope(cli.engine) as s:  # one real ballot
        s.get(CampaignRow, "county-2026").chain_count = 1
    monkeypatch.setenv("MINPING_CLOCK", _spec(_opens(cli.engine), 60))
    get_settings.cache_clear()
    for args in (["status", "county-2026"], ["close", "county-2026", "--yes"]):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert "holds real ballots (county-2026 (1 ballots))" in result.output and "fresh database" in result.output
    assert _meta(cli.engine) is None
    with session_scope(cli.engine) as s:
        assert not s.get(CampaignRow, "county-2026").closed
    monkeypatch.setenv("MINPING_CLOCK", "rehearse:tomorrow:60")
    get_settings.cache_clear()
    bad = cli("status")
    assert bad.exit_code == 2 and "expected MINPING_CLOCK=rehearse:<start>:<factor>" in bad.output


def test_commands_follow_the_rehearsal_clock_and_the_real_run_refuses_it(cli, monkeypatch):
    cli("campaign", "load", example(cli.dir, opens_in=timedelta(days=30)))
    opens = _opens(cli.engine)
    assert "upcoming" in cli("status", "county-2026").output
    monkeypatch.setenv("MINPING_CLOCK", _spec(opens - timedelta(minutes=10), 1200))  # 1 s = 20 min
    get_settings.cache_clear()
    first = cli("status", "county-2026")
    assert first.exit_code == 0 and "rehearsal clock ×1200" in first.output and "— upcoming —" in first.output
    anchor = _meta(cli.engine).value
    time.sleep(0.6)  # 12 minutes of campaign time
    assert "— open —" in cli("status", "county-2026").output
    assert _meta(cli.engine).value == anchor  # one clock for every command: anchored once
    monkeypatch.delenv("MINPING_CLOCK")  # the database keeps its clock for every command
    get_settings.cache_clear()
    assert "— open —" in cli("status", "county-2026").output
    assert "has no draw yet" in cli("invite", "county-2026").output  # open, by the rehearsal's clock
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    get_settings.cache_clear()
    real = cli("run")
    assert real.exit_code == 2 and "was used for a rehearsal" in real.output and "fresh database" in real.output


def test_a_rehearsal_shows_the_opening_and_the_reminders_in_seconds(cli, tmp_path):
    """The real ``minping run`` on a compressed clock: someone who enrolled in the open
    group before the opening gets the opening message, starts, pauses, and gets the
    campaign's 24-hour reminder a few seconds later."""
    path = example(cli.dir, opens_in=timedelta(days=30), edits={
        "reminders_after_hours: [48, 120]": "reminders_after_hours: [24]"})
    assert cli("campaign", "load", path).exit_code == 0
    opens = _opens(cli.engine)
    # Someone enrolled in the open group the day before the opening (tests/bot/test_openings.py
    # shows the chat of it); here straight in the database, so the local server's update
    # ids start afresh.
    with session_scope(cli.engine) as s:
        people.enrol(s, "county-2026", people.get_or_create_person(s, 4242), "public")
    with BotAPIServer(token="77:rehearsal") as srv:
        user = srv.user(4242)
        run = MinpingRun(tmp_path, srv, database_url(cli.engine),
                         env={"MINPING_CLOCK": _spec(opens - timedelta(minutes=1), 20_000)})  # 1 s ≈ 5.6 h
        with run:
            run.start()
            user.wait_for("现已开始", 30)  # the opening notice, through the outbox
            user.tap("开始评议")
            user.wait_for("交通局", 30)
            user.tap("满意")  # one answer, then gone
            reminded = user.wait_for("还没有完成", 30)  # 24 h of campaign time later
            assert "继续评议" in str(reminded.buttons)
            assert run.term(signal.SIGINT) == 0
        assert "rehearsal clock ×20000" in run.output
    with session_scope(cli.engine) as s:
        row = s.get(CampaignRow, "county-2026")
        assert row.chain_count == 0 and not row.closed
        assert Campaign.model_validate(row.definition).schedule.reminders_after_hours == [24]
        assert s.exec(select(MetaRow)).one().key == "rehearsal"
