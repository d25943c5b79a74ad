"""``minping publish``, ``rectification`` and ``unbind`` as an organizer uses them."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.service import Incoming, Service
from bot.settings import get_settings
from storage import campaigns
from storage import rectification as rs
from storage.db import make_engine, migrate, session_scope
from storage.models import Outbox
from tests.feedback_setup import closed_campaign, evaluee_code, make_campaign


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    yield CliRunner(), engine
    engine.dispose()
    get_settings.cache_clear()


def test_publish_before_close_is_refused(cli):
    runner, engine = cli
    with session_scope(engine) as s:
        campaigns.store_campaign(s, make_campaign(), "")
    result = runner.invoke(app, ["publish", "test-2026"])
    assert result.exit_code == 1
    assert "is open" in result.output and "minping close test-2026" in result.output
    assert runner.invoke(app, ["publish", "nope"]).exit_code == 1


def test_publish_board_and_unbind(cli):
    runner, engine = cli
    campaign = closed_campaign(engine)
    Service(engine).handle(Incoming(8001, "start", text=evaluee_code(engine, campaign, "transport")))
    result = runner.invoke(app, ["publish", campaign.id], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Sent notices cannot be recalled" in result.output and "publish the notices of" in result.output
    assert "2 new notice(s), 3 item(s), 1 opinion(s) dropped" in result.output
    assert "no contact bound yet" in result.output and "water" in result.output
    with session_scope(engine) as s:
        queued = len(s.exec(select(Outbox).where(Outbox.chat_id == 8001)).all())
    assert queued >= 1
    again = runner.invoke(app, ["publish", campaign.id, "--yes"])
    assert "0 new notice(s)" in again.output and "0 message(s) queued" in again.output
    board = runner.invoke(app, ["rectification", campaign.id, "--overdue"])
    assert board.exit_code == 0
    assert "交通局" in board.output and "水利局" in board.output
    bad = runner.invoke(app, ["unbind", campaign.id, "nosuch", "8001"])
    assert bad.exit_code == 1 and "no evaluee 'nosuch'" in bad.output
    ok = runner.invoke(app, ["unbind", campaign.id, "transport", "8001"])
    assert ok.exit_code == 0 and "unbound" in ok.output
    twice = runner.invoke(app, ["unbind", campaign.id, "transport", "8001"])
    assert twice.exit_code == 1 and "not a contact" in twice.output
    with session_scope(engine) as s:
        assert rs.contacts(s, campaign.id, "transport") == []


def test_the_organizer_reads_every_plan_in_the_cli(cli):
    from tests.chat_user import ChatUser

    runner, engine = cli
    campaign = closed_campaign(engine)
    svc = Service(engine)  # the CLI publishes now: the contact files now too
    contact = ChatUser(svc, 8001)
    contact.start(evaluee_code(engine, campaign, "transport"))
    assert runner.invoke(app, ["publish", campaign.id, "--yes"]).exit_code == 0
    contact.command("plan")
    contact.tap("为第 1 项制定方案")
    contact.text("增设周末窗口")
    contact.text("行政审批科")
    contact.text("15天")
    contact.tap("标记无需整改")
    contact.text("2")
    contact.tap("不属于本单位职责")
    contact.text("属市级事权，已转交市局")
    result = runner.invoke(app, ["rectification", campaign.id])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "整改台账" in out and "整改方案" in out
    assert "增设周末窗口" in out and "行政审批科" in out and "进行中" in out
    assert "属市级事权，已转交市局" in out and "无需整改（不属于本单位职责）" in out
    english = runner.invoke(app, ["rectification", campaign.id, "--locale", "en"])
    assert "Transport Bureau" in english.output and "outside our remit" in english.output
