"""The public board's pages (``reports/board.py``) on SQLite and PostgreSQL: a sealed open
campaign publishes its rules, duties, draw and progress and not one figure of its
answers (changing every answer in the database changes no byte of the site); after
close the ranking, a page per evaluee under the min_group_size rule, the rectification
plans and follow-up rates, never an opinion; the draw's files check with verify-draw;
every page has its language, table headers, alt texts and working relative links."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import text

from bot.service import Service
from reports import board, kit, tally
from storage import draw
from storage.db import session_scope
from tests.bot.test_evaluee import ROUND1_END, Clock, _answer_all, _file, bind, publish
from tests.feedback_setup import CLOSED_AT, OPINIONS, RECIPIENTS, STAFF, STAFF_OPINION, closed_campaign
from tests.reports.board_setup import BEACON, BEACON_VALUE, COMMITMENT, DUTIES, NOW, OPINION, answered_campaign
from tests.reports.handworked import load_handworked

pytestmark = pytest.mark.postgres
PAGES = ["index.html", "draw.html", "progress.html", "results.html", "rectification.html", "verify.html"]


def make_site(engine, campaign, now=NOW, **kw) -> dict[str, bytes]:
    with session_scope(engine) as s:
        return board.site(s, campaign, now, **kw)


def html(files: dict[str, bytes], path: str) -> str:
    return files[path].decode()


def visible_text(page: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize("sealed", [True, False])
def test_an_open_campaign_publishes_no_figure_of_its_answers(engine, sealed):
    campaign = answered_campaign(engine, sealed=sealed)
    files = make_site(engine, campaign)
    expected = {"style.css", "font.woff", "draw/pool.json", "draw/drawn.json"}
    for p in ("", "en/"):
        expected |= {p + page for page in PAGES} | {p + "charts/progress.png"}
    assert set(files) == expected  # no evaluee page, no results chart
    # Every answer in the database turned upside down: not a byte of the site changes.
    with engine.begin() as conn:
        assert conn.execute(text("UPDATE answer SET option_key = 'dissatisfied' WHERE option_key <> 'dissatisfied'"
                                 " OR option_key IS NULL")).rowcount > 0
    assert make_site(engine, campaign) == files
    results = visible_text(html(files, "results.html"))
    assert "测评结果尚未公布：评议结束、统一计票后在此公布" in results
    assert "No results yet" in visible_text(html(files, "en/results.html"))
    assert OPINION not in "".join(v.decode(errors="ignore") for v in files.values())
    # progress: drawn raters who submitted ÷ drawn, an open group's ballots
    progress = visible_text(html(files, "progress.html"))
    assert "服务对象 3 4 75.0%" in progress and "所在单位 5 6 83.3%" in progress
    assert "社会群众 2 — — 开放参与：评议表份数" in progress
    assert "评议进行中" in progress and "评议期间只公布回收进度" in progress


def test_the_campaign_page_publishes_duties_groups_rules_and_timetable(engine):
    campaign = answered_campaign(engine)
    files = make_site(engine, campaign)
    page = visible_text(html(files, "index.html"))
    assert DUTIES in page and COMMITMENT in page and "办件超时率低于1%" in page
    assert "服务对象 35.00 从报名人员中随机抽取 4 人 全部被评议对象" in page
    assert "所在单位 15.00 按单位分别抽取，共 6 人 本单位" in page and "社会群众 10.00 开放参与，不抽签" in page
    assert "民主评议满分 60 分" in page and "总分 = 民主评议（60 分）+ 日常考核（20 分" in page
    assert "行政复议或诉讼确属履职不当 −10" in page and "省级表彰 +5" in page
    assert "开始评议 2026-01-01 09:00" in page and "冻结报名池，公布假名名单和承诺值 2026-06-01 12:00" in page
    assert "统一计票，公布测评结果 尚未进行" in page and "整改通知书发布后 30 天内" in page
    assert "每 10 份或每 60 分钟" in page and "不足 2 份的评议层面" in page and "HMAC-SHA256" in page
    en = visible_text(html(files, "en/index.html"))
    assert "Builds and maintains the county's roads." in en and "One visit is enough" in en
    assert "Service recipients 35.00 4 drawn at random from those enrolled Every evaluee" in en


def test_the_draw_page_and_its_files_check_with_verify_draw(engine, cli, tmp_path):
    campaign = answered_campaign(engine)
    with session_scope(engine) as s:
        row = draw.get(s, campaign.id)
        seed, commitment = row.seed, row.commitment
        pool = draw.pool_file(s, campaign)
    out = tmp_path / "site"
    result = cli("site", campaign.id, "--out", out)
    assert result.exit_code == 0, result.output
    page = visible_text((out / "draw.html").read_text(encoding="utf-8"))
    assert commitment in page and seed in page and pool["pool_digest"] in page
    assert all(p in page for p in pool["groups"]["recipients"]["pool"])
    assert "所在单位 · 水利局 staff/water 2 3" in page and "本次抽签没有使用公开随机数" not in page
    # The public draw named at commit, its result, its canonical form and the draw seed made of them.
    with session_scope(engine) as s:
        draw_seed = draw.draw_seed(draw.get(s, campaign.id))
    assert f"事先公布的公开开奖 {BEACON} 开奖结果 {BEACON_VALUE} 规范形式 3.7.12.19.25.31./9./" in page
    assert draw_seed in page and draw_seed != seed
    assert (f"minping verify-draw pool.json --seed {seed} --commitment {commitment} "
            f"--beacon-value '{BEACON_VALUE}' --drawn drawn.json") in page
    checked = cli("verify-draw", out / "draw/pool.json", "--seed", seed, "--commitment", commitment,
                  "--beacon-value", BEACON_VALUE, "--drawn", out / "draw/drawn.json")
    assert checked.exit_code == 0 and "MATCH" in checked.output, checked.output


def test_before_the_reveal_the_seed_is_nowhere(engine):
    from tests.reports.board_setup import board_campaign
    from storage import campaigns, people

    campaign = board_campaign()
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        for i in range(5):
            m = people.enrol(s, campaign.id, people.get_or_create_person(s, 9100 + i), "recipients")
            m.consented = True
            s.add(m)
        draw.commit(s, campaign, NOW, beacon=BEACON)
        seed, commitment = draw.get(s, campaign.id).seed, draw.get(s, campaign.id).commitment
    files = make_site(engine, campaign)
    assert "draw/drawn.json" not in files
    assert commitment in html(files, "draw.html") and "尚未揭晓" in html(files, "draw.html")
    assert f"事先公布的公开开奖 {BEACON} 开奖结果 尚未开奖" in visible_text(html(files, "draw.html"))
    assert not any(seed.encode() in body for body in files.values())


def test_after_close_the_ranking_and_each_evaluee_under_the_min_group_size_rule(engine):
    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    files = make_site(engine, campaign)
    assert {"evaluee/transport.html", "en/evaluee/water.html", "charts/ranking-gov.png", "charts/heatmap.png",
            "charts/distribution.png"} <= set(files)
    results = visible_text(html(files, "results.html"))
    assert "综合排名 · 政府部门" in results
    assert re.search(r"1 水利局 71\.40 .* 1 财政局 71\.40 .* 3 交通局 49\.44", results)
    # transport: its one staff ballot is in no figure. Recipients and public pooled give
    # style 4/6, efficiency 3/4; with the staff ballot it would be 5/7 and 4/5.
    page = visible_text(html(files, "evaluee/transport.html"))
    assert "政府部门第 3 名（共 3 个计分对象）；总分 49.44" in page
    assert "计分层面：服务对象、社会群众" in page and "未计分层面（有效评议表不足 2 份）：所在单位" in page
    assert "所在单位 不足 2 份 15.00 — — —" in page
    assert "工作作风 66.7%" in page and "工作效能 75.0%" in page
    assert "71.4%" not in page and "80.0%" not in page
    assert "Rank 3 of 3 in Government" in visible_text(html(files, "en/evaluee/transport.html"))
    # the records without their free-text notes or who recorded them
    assert "行政复议或诉讼确属履职不当 -10 计入" in page and "test" not in page.split("日常考核与加分记录")[1]
    verify = visible_text(html(files, "verify.html"))
    with session_scope(engine) as s:
        from storage import campaigns

        head = campaigns.get_row(s, campaign.id).chain_head
    assert f"结束时记录：11 份评议表，链尾哈希 {head}" in verify and 'href="kit.zip"' in html(files, "verify.html")
    assert f"python3 {campaign.id}-kit/verify_kit.py" in verify
    with zipfile.ZipFile(io.BytesIO(files["kit.zip"])) as z, session_scope(engine) as s:
        assert {n.removeprefix(f"{campaign.id}-kit/"): z.read(n).decode() for n in z.namelist()} == \
            kit.build(s, campaign)


def test_the_kit_downloaded_from_the_board_checks_out_in_a_bare_python(engine, tmp_path):
    from tests.kit_setup import closed_with_kit_data

    campaign = closed_with_kit_data(engine)
    files = make_site(engine, campaign)
    assert f"python3 {campaign.id}-kit/verify_kit.py" in visible_text(html(files, "verify.html"))
    with zipfile.ZipFile(io.BytesIO(files["kit.zip"])) as z:
        z.extractall(tmp_path)
    out = subprocess.run([sys.executable, "-I", "-S", f"{campaign.id}-kit/verify_kit.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    lines = out.stdout.splitlines()
    verdict = lines[next(i for i, line in enumerate(lines) if line.startswith("ANCHORS:")) - 1]
    assert out.returncode == 0 and verdict.startswith("MATCH"), out.stdout + out.stderr


def test_rectification_plans_and_follow_up_rates_are_published_never_opinions(engine):
    campaign = closed_campaign(engine)
    clock = Clock(CLOSED_AT + timedelta(hours=1))
    svc = Service(engine, clock=clock)
    contact = bind(engine, svc, campaign)
    publish(engine, campaign, clock())
    _file(contact, "缩短排队时间", "2027-01-20", "为第 1 项制定方案")
    _answer_all(engine, svc, {RECIPIENTS[0]: "满意", RECIPIENTS[1]: "满意", RECIPIENTS[2]: "不了解", STAFF: "不了解"})
    files = make_site(engine, campaign, now=ROUND1_END + timedelta(days=8))
    page = visible_text(html(files, "rectification.html"))
    assert "交通局" in page and "缩短排队时间 责任科室 2027-01-20" in page
    assert "第 1 轮整改回访满意度：100.0%（有效回答 2）" in page
    everything = "".join(v.decode(errors="ignore") for v in files.values() if not v.startswith((b"\x89PNG", b"wOFF")))
    for opinion in (*OPINIONS.values(), STAFF_OPINION, "王小明"):
        assert opinion not in everything


def test_every_page_has_its_language_headers_alt_texts_and_working_links(engine):
    campaign = answered_campaign(engine)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    files = make_site(engine, campaign)
    pages = [p for p in files if p.endswith(".html")]
    assert len(pages) == 2 * (len(PAGES) + 3)
    for path in pages:
        page = html(files, path)
        assert f'<html lang="{"en" if path.startswith("en/") else "zh-CN"}">' in page, path
        assert 'name="viewport" content="width=device-width' in page
        assert "<table" not in page or '<th scope="col"' in page, path
        for tag in re.findall(r"<img [^>]*>", page):
            assert re.search(r'alt="[^"]{10,}"', tag), (path, tag)
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), path  # nothing from elsewhere
        for link in re.findall(r'(?:href|src)="([^"#]+)', page):
            target = re.sub(r"[^/]+/\.\./", "", (path.rsplit("/", 1)[0] + "/" if "/" in path else "") + link)
            while "../" in target:
                target = re.sub(r"[^/]+/\.\./", "", target, count=1)
            assert target in files or target == board.KIT, (path, link)
    assert "@import" not in files["style.css"].decode() and "url(font.woff)" in files["style.css"].decode()
    assert files["font.woff"][:4] == b"wOFF"


def test_one_language_only(engine):
    campaign = answered_campaign(engine)
    files = make_site(engine, campaign, locales=("en",))
    assert "index.html" in files and not any(p.startswith(("en/", "zh/")) for p in files)
    page = html(files, "index.html")
    assert '<html lang="en">' in page and "中文" not in page and json.loads(files["draw/pool.json"])["groups"]


def test_the_board_shows_the_figures_the_kit_publishes(engine):
    """The board (reports/public.py, drawn as tables) and the kit's published.json
    (reports/published.py, which verify_kit.py recomputes) give the same figures."""
    from reports import public, published
    from reports import tally as tallies

    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
        shown = public.tally(campaign, tallies.stored(s, campaign.id))
        figures = published.published(s, campaign)
    assert any(not p.votes for r in shown.evaluees.values() for p in r.groups.values())  # the rule matters here
    for key, r in shown.evaluees.items():
        f = figures["evaluees"][key]
        assert (r.scored, r.rank, r.total) == (f["scored"], f["rank"], f["total"]), key
        for g, part in r.groups.items():
            assert part.votes == f["groups"][g]["votes"], (key, g)
            if part.votes:
                assert part.ballots == f["groups"][g]["ballots"] and part.score == f["groups"][g]["score"]
        for d, dr in r.dimensions.items():
            if r.scored:
                assert (dr.satisfied, dr.valid) == (f["dimensions"][d]["satisfied"], f["dimensions"][d]["valid"])
    for (cat, d), rate in shown.category_rates.items():
        assert rate == figures["categories"][cat]["rates"][d]["rate"], (cat, d)
