"""Issue 12, item 7: links and codes. The bot's username comes from getMe (the local Bot
API server here), issued codes are stored and listed with their state, revocable,
exported as CSV, and printed as captioned QR codes (PNG, and an HTML sheet checked in a
real headless Chromium)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import segno
from PIL import Image
from sqlmodel import func, select

from devtools.devserver import BotAPIServer
from bot.service import Service
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import Link
from tests.chat_user import ChatUser
from tests.cli_env import example

pytestmark = pytest.mark.postgres


def _count(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Link)).one()


def test_the_bot_username_comes_from_getme(cli, monkeypatch):
    cli("campaign", "load", example(cli.dir))
    with BotAPIServer(token="4711:secret", bot_username="county_review_bot") as srv:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "4711:secret")
        monkeypatch.setenv("TELEGRAM_API_BASE", srv.base_url)
        get_settings.cache_clear()
        ok = cli("links", "county-2026")
        assert ok.exit_code == 0, ok.output
        assert "https://t.me/county_review_bot?start=" in ok.output and "minping_bot" not in ok.output
        flag = cli("links", "county-2026", "--bot-username", "@other_bot")  # the flag wins
        assert "https://t.me/other_bot?start=" in flag.output
        before = _count(cli.engine)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "4711:wrong")
        get_settings.cache_clear()
        wrong = cli("links", "county-2026", "--codes", "3")
        assert wrong.exit_code == 1 and "the token was refused (401 Unauthorized)" in wrong.output
        assert "--bot-username" in wrong.output and _count(cli.engine) == before  # no code minted for nothing
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    down = cli("links", "county-2026")
    assert down.exit_code == 1 and "cannot reach the Bot API at http://127.0.0.1:9" in down.output
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    get_settings.cache_clear()
    unset = cli("links", "county-2026")
    assert unset.exit_code == 1 and "TELEGRAM_BOT_TOKEN is not set" in unset.output


def test_codes_are_listed_with_their_state_revocable_and_exported(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    issued = cli("links", "county-2026", "--bot-username", "b", "--codes", "2")
    deputies = re.findall(r"两代表一委员、监督员\s*│\s*unused\s*│\s*https://t.me/b\?start=(\S+)", issued.output)
    assert len(deputies) == 2
    user = ChatUser(Service(cli.engine), 9900)
    user.start(deputies[0])
    user.tap("同意参加")
    again = cli("links", "county-2026", "--bot-username", "b")
    assert "9 single-use code(s) issued earlier are unused" in again.output  # 2 per unit + 1 deputy code

    listed = cli("links", "county-2026", "--bot-username", "b", "--list", "--csv", "all.csv")
    assert listed.exit_code == 0
    states = {m.group(2): m.group(1) for m in re.finditer(r"│ (unused|used \d{4}-\d\d-\d\d|reusable) *│ "
                                                            r"https://t.me/b\?start=(\S+)", listed.output)}
    assert states[deputies[0]].startswith("used ") and states[deputies[1]] == "unused"
    assert len(states) == _count(cli.engine)  # everything ever issued, nothing new
    rows = list(csv.DictReader(io.StringIO((cli.dir / "all.csv").read_text("utf-8-sig"))))
    by_token = {r["token"]: r for r in rows}
    assert by_token[deputies[0]]["state"] == "used" and by_token[deputies[0]]["used_at"]
    assert by_token[deputies[1]]["link"] == f"https://t.me/b?start={deputies[1]}"
    assert {r["unit"] for r in rows if r["group"] == "staff"} == {"transport", "water", "supervision", "finance"}
    assert cli("links", "county-2026", "--list", "--codes", "1", "--bot-username", "b").exit_code == 1

    revoked = cli("links", "county-2026", "--revoke", f"https://t.me/b?start={deputies[1]}")
    assert revoked.exit_code == 0 and f"revoked code {deputies[1]}" in revoked.output
    holder = ChatUser(Service(cli.engine), 9901)
    holder.start(deputies[1])
    assert "无效" in holder.texts()  # the revoked code opens nothing
    assert "--list" in cli("links", "county-2026", "--revoke", "nosuchtoken").output
    listed = cli("links", "county-2026", "--bot-username", "b", "--list")
    assert re.search(r"revoked\s*│ https://t.me/b\?start=" + re.escape(deputies[1]), listed.output)


def test_qr_codes_carry_a_caption_and_print_as_a_sheet(cli):
    cli("campaign", "load", example(cli.dir, opens_in=-timedelta(hours=1)), "--yes")
    out = cli("links", "county-2026", "--bot-username", "b", "--codes", "1", "--qr", "qr", "--sheet", "sheet.html",
              "--csv", "codes.csv")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO((cli.dir / "codes.csv").read_text("utf-8-sig"))))
    assert len(rows) == 11  # recipients, public, 4 staff codes, 1 deputy code, 4 after-service links
    staff = next(r for r in rows if r["unit"] == "water")
    png = Image.open(cli.dir / "qr" / "staff-water-code1.png").convert("L")
    bare = segno.make(staff["link"], error="m")
    side = bare.symbol_size(scale=8, border=2)[0]
    assert png.height > side + 60  # room for three caption lines under the code
    top = png.crop(((png.width - side) // 2, 0, (png.width - side) // 2 + side, side))
    buf = io.BytesIO()
    bare.save(buf, kind="png", scale=8, border=2)
    assert top.tobytes() == Image.open(buf).convert("L").tobytes()  # the right link, intact
    caption = png.crop((0, side, png.width, png.height))
    assert min(caption.tobytes()) < 100  # text is drawn there

    html = (cli.dir / "sheet.html").read_text("utf-8")
    for r in rows:
        assert segno.make(r["link"], error="m").svg_inline(scale=4, border=2, omitsize=True) in html
    seen = _in_chromium((cli.dir / "sheet.html").as_uri(), "所在单位干部职工 (水利局) · 个人邀请码（一次有效）")
    assert seen["figures"] == 11
    assert seen["water"] == 1 and "2026年度县人大常委会对县政府组成部门述职评议" in seen["text"]
    assert seen["text"].endswith(f"county-2026 · …{staff['token'][-6:]}")
    box = seen["box"]
    assert box["width"] > 100 and abs(box["width"] - box["height"]) < 1  # a square code, print-sized


def _in_chromium(url: str, caption: str) -> dict:
    """Open the sheet in Debian's headless Chromium (Playwright) on a thread of its own:
    the sync API keeps an event loop running in its thread, which must not be the
    tests' main thread (later tests run asyncio and the local Bot API server there)."""
    import threading

    from tests.browser import CHROMIUM, FLAGS

    out: dict = {}

    def look() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1000, "height": 1400})
                page.goto(url)
                figures = page.locator("figure")
                water = figures.filter(has_text=caption)
                out.update(figures=figures.count(), water=water.count(), text=water.inner_text().strip(),
                           box=water.locator("svg").bounding_box())
                browser.close()
        except Exception as exc:  # noqa: BLE001  (reported in the test's thread)
            out["error"] = exc

    t = threading.Thread(target=look)
    t.start()
    t.join(120)
    if "error" in out:
        raise out["error"]
    return out
