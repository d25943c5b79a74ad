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


def test_reports_carry_every_plan_and_the_opinions(engine, planned):
    with session_scope(engine) as s:
        xlsx = export.export(s, planned, "xlsx", now=OVERDUE)
        html = export.export(s, planned, "html", now=OVERDUE).decode()
    wb = load_workbook(io.BytesIO(xlsx))
    rows = [[c.value for c in r] for r in wb["整改"].iter_rows()]
    assert rows[0][:8] == ["被评议对象", "轮次", "序号", "对应意见", "整改措施 / 理由", "责任人", "时限", "状态"]
    transport = next(r for r in rows if r[0] == "交通局")
    assert transport[1:8] == [1, 1, "1", "缩短排队时间", "责任科室", "2027-01-20", "⚠️ 已逾期"]
    # The opinions as the notice carries them: scrubbed, numbered, no group, no ballot id.
    opinions = [[c.value for c in r] for r in wb["意见建议"].iter_rows()]
    assert opinions[0] == ["被评议对象", "序号", "意见建议"]
    texts = [r[2] for r in opinions[1:] if r[0] == "交通局"]
    assert sorted(r[1] for r in opinions[1:] if r[0] == "交通局") == [1, 2, 3]
    assert "内部审批环节太多" in texts and not any("13812345678" in x or "王小明" in x for x in texts)
    # html: the plan in the evaluee's section, with its state; opinions never in the html
    section = html.split('id="e1"')[1].split("<section")[0]
    assert "缩短排队时间" in section and "已逾期" in section and "第 1 轮：截止 2027-02-09" in section
    assert "内部审批环节太多" not in html
