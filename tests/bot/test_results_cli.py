"""``minping close | tally | verify | record | report`` as an organizer uses them, and
that a sealed open campaign leaks no result through any of them."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from typer.testing import CliRunner

from bot.cli import app, common
from bot.settings import get_settings
from storage.db import make_engine, migrate, session_scope
from storage.models import Answer
from tests.reports.handworked import load_handworked

NAMES = ("交通局", "水利局", "财政局", "Transport", "transport", "71.4", "49.44")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    monkeypatch.setattr(common.console, "width", 220)  # the ranking table is wide
    eng = make_engine(url)
    migrate(eng)
    load_handworked(eng)
    eng.dispose()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli, *args):
    return cli.invoke(app, list(args))


def test_sealed_open_campaign_leaks_nothing_through_the_cli(cli, tmp_path):
    for args in (["tally", "test-2026"], ["report", "test-2026", "--format", "csv"],
                 ["report", "test-2026", "--format", "xlsx"], ["report", "test-2026", "--format", "html"],
                 ["report", "test-2026", "--format", "data"]):
        result = run(cli, *args)
        assert result.exit_code == 1, args
        assert "sealed" in result.output and "minping close test-2026" in result.output
        assert not any(n in result.output for n in NAMES), args
    assert not list(tmp_path.glob("test-2026-results.*")) and not list(tmp_path.glob("test-2026-ballots.*"))
    for args in (["verify", "test-2026"], ["status", "test-2026"]):
        result = run(cli, *args)
        assert result.exit_code == 0, result.output
        assert not any(n in result.output for n in NAMES), args
    assert "nothing is published yet" in run(cli, "verify", "test-2026").output


def test_close_prints_the_ranking_and_unseals(cli):
    result = run(cli, "close", "test-2026", "--yes")
    assert result.exit_code == 0, result.output
    assert "closed" in result.output and "11 ballots" in result.output
    lines = {line.split("│")[2].strip(): line for line in result.output.splitlines() if line.count("│") > 5}
    assert "1/3" in lines["水利局"] and "71.40" in lines["水利局"]
    assert "1/3" in lines["财政局"] and "3/3" in lines["交通局"] and "49.44" in lines["交通局"]
    assert "所在单位" in lines["交通局"]  # staff does not vote for transport
    again = run(cli, "close", "test-2026", "--yes")
    assert again.exit_code == 1 and "already closed" in again.output
    assert "71.40" in run(cli, "tally", "test-2026").output
    late = run(cli, "record", "test-2026", "water", "bonus", "city")
    assert late.exit_code == 1 and "closed" in late.output


def test_record_refuses_unknown_things_clearly(cli):
    for args, words in [(["nope", "deduction", "complaint"], "no evaluee 'nope'"),
                        (["water", "deduction", "speeding"], "'speeding' is not a deduction"),
                        (["water", "award", "city"], "kind must be 'deduction' or 'bonus'")]:
        result = run(cli, "record", "test-2026", *args)
        assert result.exit_code == 1 and words in result.output, result.output
    ok = run(cli, "record", "test-2026", "water", "bonus", "city", "--note", "市级表彰", "--by", "王主任")
    assert ok.exit_code == 0 and "+2" in ok.output and "王主任" in ok.output
    assert run(cli, "record", "nope", "water", "bonus", "city").exit_code == 1


def _csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def test_reports_after_close_in_chinese_by_default_and_in_english(cli, tmp_path):
    run(cli, "close", "test-2026", "--yes")
    r = run(cli, "report", "test-2026", "--format", "csv")
    assert r.exit_code == 0, r.output
    by = {row["被评议对象"]: row for row in _csv(tmp_path / "test-2026-results.csv")}
    assert list(next(iter(by.values())))[:6] == ["类别", "排名", "被评议对象", "总分", "95% 区间", "民主评议"]
    assert (by["交通局"]["排名"], by["交通局"]["总分"], by["交通局"]["满意率"]) == ("3", "49.44", "75.0%")  # 9/12
    assert "所在单位有效评议表不足 2 份，不计分" in by["交通局"]["说明"]
    assert (by["水利局"]["排名"], by["财政局"]["排名"]) == ("1", "1")  # tied at 71.40
    en = tmp_path / "en.csv"
    assert run(cli, "report", "test-2026", "--format", "csv", "--locale", "en", "--out", str(en)).exit_code == 0
    by_en = {row["Evaluee"]: row for row in _csv(en)}
    assert list(next(iter(by_en.values())))[:4] == ["Category", "Rank", "Evaluee", "Total"]
    assert by_en["Transport Bureau"]["Rank"] == "3" and by_en["Transport Bureau"]["Category"] == "Government"
    out = tmp_path / "out" / "r.xlsx"
    assert run(cli, "report", "test-2026", "--format", "xlsx", "--out", str(out)).exit_code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["排名", "评议内容", "意见建议", "整改", "日常考核记录", "说明"]
    head = [c.value for c in wb["排名"][1]]
    first = dict(zip(head, [c.value for c in wb["排名"][2]], strict=True))
    assert first["排名"] == 1 and first["总分"] == 71.4 and first["被评议对象"] in ("水利局", "财政局")
    dims = [[c.value for c in row] for row in wb["评议内容"].iter_rows()]
    assert dims[0][:4] == ["被评议对象", "评议内容", "满意", "比较满意"]
    assert ["交通局", "工作作风", 3, 2, 1, 1, 0, 7] == dims[1][:8]
    records = [[c.value for c in row] for row in wb["日常考核记录"].iter_rows()]
    assert records[0] == ["被评议对象", "类型", "事项", "分值", "计分", "事由", "记录人", "记录时间"]
    transport = [r for r in records if r[0] == "交通局"]
    lost = "行政复议或诉讼确属履职不当"  # known keys in words; a campaign's own key as it is
    assert [r[1:5] for r in transport] == [["扣分", "complaint", -5, "计入"], ["扣分", lost, -10, "计入"],
                                           ["扣分", lost, -10, "计入"], ["加分", "县级表彰", 1, "不计入（只计最高一项）"],
                                           ["加分", "省级表彰", 5, "计入"]]
    assert transport[0][7] == "2026-06-01 08:00"  # recorded 00:00 UTC: 08:00 in Asia/Shanghai
    en_xlsx = tmp_path / "r-en.xlsx"
    assert run(cli, "report", "test-2026", "--format", "xlsx", "--locale", "en", "--out", str(en_xlsx)).exit_code == 0
    assert load_workbook(en_xlsx).sheetnames == ["Ranking", "Dimensions", "Opinions", "Rectification",
                                                  "Daily assessment records", "Notes"]
    html_path = tmp_path / "r.html"
    assert run(cli, "report", "test-2026", "--format", "html", "--out", str(html_path)).exit_code == 0
    html = html_path.read_text("utf-8")
    assert html.count("data:image/png;base64,") == 4 and "<script" not in html  # ranking, heatmap, levels, progress
    assert html.count('<section class="evaluee"') == 3 and "综合排名 · 政府部门" in html
    assert "@font-face" in html and "@page" in html  # self-contained, print-ready
    bad = run(cli, "report", "test-2026", "--format", "pdf")
    assert bad.exit_code == 1 and "html, xlsx, csv, data" in bad.output
    assert run(cli, "report", "test-2026", "--locale", "fr").exit_code == 1


def test_ballot_level_data_with_a_schema_of_its_codes(cli, tmp_path):
    import json

    run(cli, "close", "test-2026", "--yes")
    r = run(cli, "report", "test-2026", "--format", "data")
    assert r.exit_code == 0, r.output
    rows = _csv(tmp_path / "test-2026-ballots.csv")
    schema = json.loads((tmp_path / "test-2026-ballots.schema.json").read_text("utf-8"))
    assert len(rows) == 11 and [int(x["row"]) for x in rows] == list(range(1, 12))
    assert list(rows[0]) == ["row", "group", "transport.style", "transport.efficiency", "water.style",
                             "water.efficiency", "finance.style", "finance.efficiency"]
    assert set(schema["properties"]) == set(rows[0]) and "ballot" not in " ".join(rows[0])
    assert schema["properties"]["transport.style"]["$ref"] == "#/$defs/answer"
    assert schema["properties"]["transport.style"]["title"] == "交通局 / Transport Bureau · 工作作风 / Work style"
    codes = {c["const"]: c["title"] for c in schema["$defs"]["answer"]["oneOf"]}
    assert codes["satisfied"] == "满意 / Satisfied" and codes["dont_know"] == "不了解 / Don't know"
    for row in rows:  # every value is a code of the schema
        for col in row:
            if col not in ("row", "group"):
                assert row[col] in codes, (col, row[col])
    staff = [x for x in rows if x["group"] == "staff"]
    # transport's one staff ballot is withheld (min_group_size 2); water's two are shown
    assert sorted(x["transport.style"] for x in staff) == ["", "", "", "", "suppressed"]
    assert sorted(x["water.style"] for x in staff if x["water.style"]) == ["fairly", "fairly"]
    recipients = [x for x in rows if x["group"] == "recipients"]
    assert sorted(x["transport.style"] for x in recipients) == ["dissatisfied", "fairly", "satisfied", "satisfied"]
    assert sorted(x["transport.efficiency"] for x in recipients)[0] == "basically"
    assert "dont_know" in [x["transport.efficiency"] for x in recipients]


def test_verify_ok_then_a_tampered_answer_fails(cli, tmp_path):
    run(cli, "close", "test-2026", "--yes")
    ok = run(cli, "verify", "test-2026")
    assert ok.exit_code == 0 and "OK" in ok.output
    eng = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(eng) as s:
        s.execute(update(Answer).where(Answer.evaluee_key == "water", Answer.dimension_key == "style")
                  .values(option_key="dissatisfied"))
    eng.dispose()
    bad = run(cli, "verify", "test-2026")
    assert bad.exit_code == 1
    assert "altered" in bad.output and "recount" in bad.output and "water" in bad.output
