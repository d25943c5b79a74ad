"""Overdue rectification items reach the organizers' digest, and the board is in the
xlsx and html reports (issue 6 escalation, issue 5 exports)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.service import Service
from reports import digest, export
from storage.db import session_scope
from tests.bot.test_evaluee import Clock, _file, bind, publish
from tests.feedback_setup import CLOSED_AT, closed_campaign

pytestmark = pytest.mark.postgres
OVERDUE = datetime(2027, 1, 20, 16, 1, tzinfo=UTC)  # 00:01 on the 21st in Shanghai


@pytest.fixture
def planned(engine):
    campaign = closed_campaign(engine)
    clock = Clock(CLOSED_AT + timedelta(hours=1))
    svc = Service(engine, clock=clock)
    c = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(c, "缩短排队时间", "2027-01-20", "为第 1 项制定方案")
    return campaign


def test_digest_escalates_overdue_items(engine, planned):
    with session_scope(engine) as s:
        before = digest.build(s, planned, "zh", OVERDUE - timedelta(days=2), with_charts=False)
        after = digest.build(s, planned, "zh", OVERDUE, with_charts=False)
    assert "逾期" not in before.text
    assert "逾期整改事项 1 项" in after.text and "交通局：第 1 项，截止 2027-01-20" in after.text


def test_reports_carry_the_rectification_board(engine, planned):
    with session_scope(engine) as s:
        xlsx = export.export(s, planned, "xlsx", now=OVERDUE)
        html = export.export(s, planned, "html", now=OVERDUE).decode()
    sheet = load_workbook(io.BytesIO(xlsx))["rectification"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:7] == ["evaluee", "round", "deadline", "items", "planned", "done", "overdue"]
    transport = next(r for r in rows if r[0] == "交通局")
    assert transport[3:7] == [transport[3], 1, 0, 1]  # item 1 planned, not done, overdue
    assert "整改台账" in html and "交通局" in html
