"""A category where no rater group reaches min_group_size (issue 13): no 0.00 and no
"1/3" anywhere, but the reason, in every report; the recount agrees."""

from __future__ import annotations

import csv
import io

import pytest
from rich.console import Console

from bot.cli.results import ranking_table
from reports import charts, digest, export, tally
from reports.verify import verify
from storage.db import session_scope
from tests.reports.handworked import load_handworked

pytestmark = pytest.mark.postgres
REASON = "无得分：没有评议层面达到 10 份有效评议表"


@pytest.fixture
def closed(engine):
    campaign = load_handworked(engine, min_group_size=10)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    return campaign


def test_no_score_is_said_everywhere(engine, closed):
    with session_scope(engine) as s:
        result = tally.stored(s, closed.id)
        assert verify(s, closed).ok  # the independent recount agrees: no score, no rank
        text = digest.build(s, closed, "zh", with_charts=False).text
        html = export.export(s, closed, "html").decode()
        rows = list(csv.DictReader(io.StringIO(export.export(s, closed, "csv").decode("utf-8-sig"))))
        en = export.export(s, closed, "csv", locale="en").decode("utf-8-sig")
    assert all(r.total is None and r.rank is None and r.democratic is None for r in result.evaluees.values())
    assert {r["排名"] for r in rows} == {"—"} and {r["总分"] for r in rows} == {REASON}
    assert "no score: no rater group reached 10 ballots" in en
    assert f"— 交通局  {REASON}  满意率 75.0%" in text and "分  满意率" not in text
    assert "不足 10 份，不计入得分" not in text  # no "weight shared among the others": nobody votes
    assert html.count(REASON) >= 6 and "共 0 个计分对象" not in html
    chart = charts.ranking(closed, result, "gov")
    assert REASON in chart.alt and "本类别" not in chart.alt
    console = Console(record=True, width=200)
    for table in ranking_table(closed, result):
        console.print(table)
    shown = console.export_text()
    assert REASON in shown and "1/3" not in shown and "3/3" not in shown
