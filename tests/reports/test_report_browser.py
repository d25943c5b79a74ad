"""The html report as an office opens and prints it: in a real headless Chromium (Debian's,
driven by Playwright), from a file:// URL. A screenshot is kept under test-artifacts/."""

from __future__ import annotations

from datetime import datetime

import pytest

from reports import export, tally
from storage.db import make_engine, migrate, session_scope
from tests.browser import foreign_requests, screenshot
from tests.reports.handworked import load_handworked


@pytest.fixture
def report_files(tmp_path):
    """The hand-worked campaign closed, linked to a closed earlier round (a trend), written
    as the zh and en html reports."""
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    earlier = load_handworked(engine, id="test-2025", opens=datetime(2025, 1, 1), closes=datetime(2025, 12, 1))
    with session_scope(engine) as s:
        tally.close_campaign(s, earlier)
    campaign = load_handworked(engine, events=True, previous="test-2025")
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    files = {}
    with session_scope(engine) as s:
        for locale in ("zh", "en"):
            files[locale] = tmp_path / f"report-{locale}.html"
            files[locale].write_bytes(export.export(s, campaign, "html", locale))
    engine.dispose()
    return files


def test_the_html_report_in_a_real_browser(page, report_files):
    page.set_viewport_size({"width": 1000, "height": 1400})
    page.goto(report_files["zh"].as_uri())
    assert page.locator("h1").inner_text() == "测试评议"
    ranking = [r.inner_text().split("\t") for r in page.locator("section.ranking table tbody tr").all()]
    assert [(r[0], r[1], r[2]) for r in ranking] == [("1", "水利局", "71.40"), ("1", "财政局", "71.40"),
                                                   ("3", "交通局", "49.44")]
    assert ranking[0][9] == "71.40" and ranking[0][10] == "+0.00"  # the linked round's total, and the change
    sections = page.locator("section.evaluee")
    assert sections.count() == 3
    assert [sections.nth(i).locator("h2").inner_text() for i in range(3)] == ["交通局", "水利局", "财政局"]
    transport = sections.nth(0).inner_text()
    assert "政府部门第 3 名（共 3 个计分对象）；总分 49.44" in transport
    assert "不计分：有效评议表不足 2 份" in transport and "行政复议或诉讼确属履职不当" in transport
    images = page.locator("img")
    assert images.count() == 5  # ranking, heatmap, levels, trend, progress
    assert all(images.nth(i).evaluate("i => i.complete && i.naturalWidth > 600") for i in range(images.count()))
    # the Chinese font travels with the page: the title is drawn with it, not a fallback
    assert page.evaluate("document.fonts.check('16px MinpingSans', '测试评议')")
    assert foreign_requests(page, report_files["zh"].as_uri()) == []
    shot = screenshot(page, "report-zh")
    assert shot.stat().st_size > 50_000
    # Printed on A4: the cover with the ranking, the charts, then one page per evaluee at least.
    pdf = page.pdf(format="A4")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 5


def test_the_english_report_has_english_headers(page, report_files):
    page.goto(report_files["en"].as_uri())
    head = page.locator("section.ranking table thead th").all_inner_texts()
    assert head[:4] == ["Rank", "Evaluee", "Total", "95% interval"]
    assert "Water Bureau" in page.locator("section.ranking").inner_text()
    assert page.locator("section.evaluee h3").first.inner_text() == "Score parts"
    screenshot(page, "report-en")
