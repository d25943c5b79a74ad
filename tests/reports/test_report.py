"""The report model behind html, xlsx and csv: escaping, the campaign's time zone, the
live note of an unsealed open campaign, the same figures in every format."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from reports import export, tally
from storage.db import session_scope
from tests.reports.handworked import load_handworked

CLOSED = datetime(2026, 12, 20, 10, 30, tzinfo=UTC)  # 18:30 in Asia/Shanghai


def test_names_are_escaped_and_times_are_local(engine):
    campaign = load_handworked(engine, title={"zh": "<script>alert(1)</script>评议", "en": "x"})
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign, now=CLOSED)
        html = export.export(s, campaign, "html", now=CLOSED).decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;评议" in html
    assert "统计时间：2026-12-20 18:30；有效评议表 11 份" in html
    assert "评议时间：2026-01-01 09:00 至 2030-01-01 18:00（Asia/Shanghai）" in html


def test_every_format_carries_the_same_ranking(engine):
    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign, now=CLOSED)
        model = export.build(s, campaign, "zh", CLOSED, with_charts=False)
        rows = list(csv.reader(io.StringIO(export.to_csv(model).decode("utf-8-sig"))))
        sheet = load_workbook(io.BytesIO(export.to_xlsx(model)))["排名"]
    in_csv = [(r[1], r[2], r[3]) for r in rows[1:]]
    in_xlsx = [(str(r[1].value), r[2].value, f"{r[3].value:.2f}") for r in sheet.iter_rows(min_row=2)]
    in_model = [(c.ranking.rows[i][0].text, c.ranking.rows[i][1].text, c.ranking.rows[i][2].text)
                for c in model.categories for i in range(len(c.ranking.rows))]
    assert in_csv == in_xlsx == in_model == [("1", "水利局", "71.40"), ("1", "财政局", "71.40"), ("3", "交通局", "49.44")]


def test_an_unsealed_open_campaign_is_marked_live(engine):
    campaign = load_handworked(engine, sealed=False)
    with session_scope(engine) as s:
        html = export.export(s, campaign, "html", now=CLOSED).decode()
    assert "评议尚未结束：以下为实时结果" in html
