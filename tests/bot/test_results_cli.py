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
                 ["report", "test-2026", "--format", "xlsx"], ["report", "test-2026", "--format", "html"]):
        result = run(cli, *args)
        assert result.exit_code == 1, args
        assert "sealed" in result.output and "minping close test-2026" in result.output
        assert not any(n in result.output for n in NAMES), args
    assert not list(tmp_path.glob("test-2026-results.*"))
    for args in (["verify", "test-2026"], ["status", "test-2026"]):
        result = run(cli, *args)
        assert result.exit_code == 0, result.output
        assert not any(n in result.output for n in NAMES), args
    assert "nothing published" in run(cli, "verify", "test-2026").output


def test_close_prints_the_ranking_and_unseals(cli):
    result = run(cli, "close", "test-2026")
    assert result.exit_code == 0, result.output
    assert "closed" in result.output and "11 ballots" in result.output
    lines = {line.split("│")[2].strip(): line for line in result.output.splitlines() if line.count("│") > 5}
    assert "1/3" in lines["水利局"] and "71.40" in lines["水利局"]
    assert "1/3" in lines["财政局"] and "3/3" in lines["交通局"] and "49.44" in lines["交通局"]
    assert "所在单位" in lines["交通局"]  # staff does not vote for transport
    again = run(cli, "close", "test-2026")
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


def test_reports_after_close(cli, tmp_path):
    run(cli, "close", "test-2026")
    r = run(cli, "report", "test-2026", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "test-2026-results.csv").read_text("utf-8-sig"))))
    by = {row["evaluee"]: row for row in rows}
    assert (by["transport"]["rank"], by["transport"]["total"], by["transport"]["style satisfaction %"]) == \
        ("3", "49.4444", "71.43")
    assert by["transport"]["staff votes"] == "no" and "所在单位" in by["transport"]["not voting (below min_group_size; weight shared among the others)"]
    out = tmp_path / "out" / "r.xlsx"
    assert run(cli, "report", "test-2026", "--format", "xlsx", "--out", str(out)).exit_code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["results", "dimensions", "notes"]
    head = [c.value for c in wb["results"][1]]
    first = dict(zip(head, [c.value for c in wb["results"][2]], strict=True))
    assert first["rank"] == 1 and first["total"] == 71.4
    assert any("weight is shared" in (r[0].value or "") for r in wb["notes"].iter_rows())
    html_path = tmp_path / "r.html"
    assert run(cli, "report", "test-2026", "--format", "html", "--out", str(html_path)).exit_code == 0
    html = html_path.read_text("utf-8")
    assert html.count("data:image/png;base64,") >= 4 and "交通局" in html and "<script" not in html
    bad = run(cli, "report", "test-2026", "--format", "pdf")
    assert bad.exit_code == 1 and "csv, xlsx, html" in bad.output


def test_verify_ok_then_a_tampered_answer_fails(cli, tmp_path):
    run(cli, "close", "test-2026")
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
