"""The public board over HTTP (``bot.web.board``) and ``minping site`` on the command line:
the live pages are the static site's files, with a policy that allows nothing from
elsewhere; unknown campaigns and paths are a clear 404 and a clear error."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.board import BoardPart, BoardPathError, parse_path
from reports import board
from storage.db import session_scope
from tests.reports.board_setup import NOW, answered_campaign

pytestmark = pytest.mark.postgres


@pytest.fixture
async def client(engine):
    campaign = answered_campaign(engine)
    app = web.Application()
    BoardPart(engine, "/board", clock=lambda: NOW).mount(app)
    async with TestClient(TestServer(app)) as c:
        c.campaign = campaign
        yield c


async def test_the_live_pages_are_the_static_site(client, engine):
    with session_scope(engine) as s:
        files = board.site(s, client.campaign, NOW)
    for path in ("", "draw.html", "en/progress.html", "results.html", "charts/progress.png", "style.css",
                 "font.woff", "draw/pool.json"):
        resp = await client.get(f"/board/test-2026/{path}")
        assert resp.status == 200, path
        assert await resp.read() == files[path or "index.html"], path
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/board/test-2026/charts/progress.png")).content_type == "image/png"
    listing = await (await client.get("/board/")).text()
    assert 'href="test-2026/"' in listing and "测试评议" in listing


async def test_after_close_the_kit_is_served_as_written(client, engine):
    from reports import tally

    with session_scope(engine) as s:
        tally.close_campaign(s, client.campaign)
        files = board.site(s, client.campaign, NOW)
    resp = await client.get("/board/test-2026/kit.zip")
    assert resp.status == 200 and resp.content_type == "application/zip"
    assert await resp.read() == files["kit.zip"]


async def test_language_redirects_and_folders(client):
    resp = await client.get("/board/test-2026/draw.html?lang=en", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/board/test-2026/en/draw.html"
    resp = await client.get("/board/test-2026/en/draw.html?lang=zh", allow_redirects=False)
    assert resp.headers["Location"] == "/board/test-2026/draw.html"
    assert (await client.get("/board/test-2026", allow_redirects=False)).headers["Location"] == "/board/test-2026/"
    assert (await client.get("/board", allow_redirects=False)).status == 308
    page = await (await client.get("/board/test-2026/en/")).text()
    assert '<html lang="en">' in page


@pytest.mark.parametrize("path", ["/board/nope-2026/", "/board/test-2026/results2.html", "/board/test-2026/evaluee/"
                                  "transport.html", "/board/test-2026/charts/heatmap.png", "/board/test-2026/../x",
                                  "/board/test-2026/a/../../x", "/board/bad!id/", "/board/test-2026/.hidden",
                                  "/board/test-2026/kit.zip"])
async def test_no_such_page(client, path):
    resp = await client.get(path)
    assert resp.status == 404 and "没有这个页面" in await resp.text()


def test_the_board_path_setting():
    assert parse_path("/board") == "/board" and parse_path("/pub/board/") == "/pub/board"
    assert parse_path("off") is None and parse_path("") is None
    for bad in ("board", "/bo ard", "/../x", "http://x/board"):
        with pytest.raises(BoardPathError, match="MINPING_BOARD_PATH"):
            parse_path(bad)


def test_site_writes_the_files(cli, engine, tmp_path):
    campaign = answered_campaign(engine)
    out = tmp_path / "public"
    result = cli("site", campaign.id, "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and (out / "en" / "verify.html").is_file()
    assert "wrote 18 files" in result.output  # 6 pages and a chart per language, style, font, 2 draw files


def test_site_refuses_bad_input_and_writes_nothing(cli, engine, tmp_path):
    answered_campaign(engine)
    out = tmp_path / "public"
    result = cli("site", "test-2062", "--out", out)
    assert result.exit_code == 1 and "test-2062" in result.output and "test-2026" in result.output
    assert not out.exists()
    result = cli("site", "test-2026", "--out", out, "--locale", "fr")
    assert result.exit_code == 1 and "--locale must be zh, en or all" in result.output and not out.exists()
    (tmp_path / "afile").write_text("x")
    result = cli("site", "test-2026", "--out", tmp_path / "afile")
    assert result.exit_code == 1 and "is a file, not a folder" in result.output
