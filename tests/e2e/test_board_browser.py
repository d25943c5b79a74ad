"""The public board in a real headless Chromium at phone width, on SQLite and PostgreSQL:
the static site written by ``minping site`` (served by a plain web server) and the live
pages of a real ``minping run``. A sealed open campaign: rules, duties, draw and progress,
no result in any page, page source or image; after close: the ranking, an evaluee page,
the rectification plans. No request leaves the page's own host. Screenshots are kept in
test-artifacts/."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.devserver import BotAPIServer
from reports import tally
from storage.db import session_scope
from tests.browser import foreign_requests, screenshot
from tests.reports.board_setup import COMMITMENT, DUTIES, answered_campaign, close_with_plan
from tests.run_process import MinpingRun, database_url, free_port

pytestmark = pytest.mark.postgres
TOKEN = "4545:board-token"
PAGES = ["index.html", "draw.html", "progress.html", "results.html", "rectification.html", "verify.html"]
RESULT_WORDS = ["综合排名", "得分构成", "各评议内容满意率", "计分层面", "charts/ranking", "charts/heatmap"]


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def static_server(folder: Path):
    """Any web server will do: Python's own, serving the folder as files."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def would_be_totals(engine, campaign) -> list[str]:  # noqa: ANN001
    """The totals a live count would give now (never published while sealed), but for
    those that equal a figure of the rules (a scale level's points, a weight)."""
    with session_scope(engine) as s:
        result = tally.compute(s, campaign, allow_sealed=True)
    rules = {f"{o.points:.2f}" for o in campaign.scale} | {f"{g.weight:.2f}" for g in campaign.rater_groups}
    found = [f"{r.total:.2f}" for r in result.evaluees.values() if r.scored and f"{r.total:.2f}" not in rules]
    assert found
    return found


def visit(page, url: str) -> str:  # noqa: ANN001
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    # readable at phone width: the page itself never scrolls sideways (wide tables do, inside)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
    for img in page.locator("img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 600"), url
        assert len(img.get_attribute("alt")) > 20
    return page.content()


def check_sealed(page, base: str, engine, campaign, name: str) -> None:  # noqa: ANN001
    totals = would_be_totals(engine, campaign)
    sources = []
    for path in PAGES + ["en/" + p for p in PAGES]:
        sources.append(visit(page, f"{base}/{path}"))
        assert page.locator("html").get_attribute("lang") == ("en" if path.startswith("en/") else "zh-CN")
        if path in ("index.html", "progress.html", "results.html", "draw.html"):
            screenshot(page, f"board-{name}-sealed-{path.removesuffix('.html')}")
    everything = "\n".join(sources)
    assert not any(w in everything for w in RESULT_WORDS)
    assert not any(total in everything for total in totals)
    images = {u.rsplit("/", 1)[-1] for u in page.requests if u.endswith(".png")}
    assert images == {"progress.png"}  # the only picture: the progress per group
    visit(page, f"{base}/index.html")
    assert DUTIES in page.locator("#ev-transport").inner_text() and COMMITMENT in page.inner_text("body")
    visit(page, f"{base}/progress.html")
    rows = [r.inner_text().split("\t") for r in page.locator("main table tbody tr").all()]
    assert rows[0][:4] == ["服务对象", "3", "4", "75.0%"] and rows[1][:4] == ["所在单位", "5", "6", "83.3%"]
    visit(page, f"{base}/results.html")
    assert "测评结果尚未公布" in page.locator("main").inner_text()
    assert foreign_requests(page, base) == []


def check_closed(page, base: str, name: str) -> None:  # noqa: ANN001
    visit(page, f"{base}/results.html")
    ranking = [r.inner_text().split("\t") for r in page.locator("section.ranking table tbody tr").all()]
    assert [r[1] for r in ranking] == ["水利局", "财政局", "交通局"] and ranking[2][0] == "3"
    assert page.locator("section.ranking th").first.inner_text() == "排名"
    screenshot(page, f"board-{name}-closed-results")
    page.get_by_role("link", name="交通局").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/evaluee/transport.html")
    main = page.locator("main").inner_text()
    assert "政府部门第 3 名" in main and "未计分层面（有效评议表不足 2 份）：所在单位" in main
    screenshot(page, f"board-{name}-closed-evaluee")
    visit(page, f"{base}/rectification.html")
    plans = page.locator("#r-transport table tbody tr").first.inner_text()
    assert "增加窗口人手" in plans and "2026-06-20" in plans
    assert "窗口排队太久" not in page.content()  # the opinion it answers: never published
    screenshot(page, f"board-{name}-closed-rectification")
    visit(page, f"{base}/en/results.html")
    assert page.locator("section.ranking th").first.inner_text() == "Rank"
    assert foreign_requests(page, base) == []


def test_the_static_site_in_a_browser(engine, page, tmp_path, cli):
    campaign = answered_campaign(engine)
    out = tmp_path / "public"
    assert cli("site", campaign.id, "--out", out).exit_code == 0
    with static_server(out) as base:
        check_sealed(page, base, engine, campaign, "static")
        close_with_plan(engine, campaign)
        assert cli("site", campaign.id, "--out", out).exit_code == 0
        check_closed(page, base, "static")


def test_the_live_pages_of_minping_run_in_a_browser(engine, page, tmp_path):
    campaign = answered_campaign(engine)
    port = free_port()
    with BotAPIServer(token=TOKEN, rate_limit=False) as srv:
        env = {"MINPING_LISTEN": f"127.0.0.1:{port}", "MINPING_BOARD_PATH": "/public"}
        with MinpingRun(tmp_path, srv, database_url(engine), env=env) as run:
            run.start()
            base = f"http://127.0.0.1:{port}/public/{campaign.id}"
            check_sealed(page, base, engine, campaign, "live")
            close_with_plan(engine, campaign)
            check_closed(page, base, "live")
