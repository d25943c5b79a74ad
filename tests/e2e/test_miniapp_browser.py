"""The Mini App in a real headless Chromium, served by a real ``minping run`` (SQLite and
PostgreSQL): a rater of the 24-unit windows campaign opens it from /resume with signed
launch data, finds what they answered in the chat, answers all 24 units, reloads midway
and finds the draft, submits after a confirmation; the ballot is in the database and the
chain verifies; forged, stale and other people's launch data are refused with a clear
page; the chat then says "already submitted"."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from devtools.devserver import BotAPIServer
from reports.verify import verify
from storage import campaigns
from storage.db import session_scope
from storage.ballots import Envelope
from storage.models import Answer, Ballot, Opinion
from tests.browser import foreign_requests, screenshot
from tests.e2e.windows import NAMES, open_windows
from tests.factories import chain_pending
from tests.run_process import MinpingRun, database_url, free_port

pytestmark = pytest.mark.postgres
TOKEN = "4343:browser-token"
WAIT = 10_000  # ms


@pytest.fixture
def served(engine, tmp_path):
    campaign, token = open_windows(engine)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with BotAPIServer(token=TOKEN, rate_limit=False) as srv:
        env = {"MINPING_LISTEN": f"127.0.0.1:{port}", "MINPING_PUBLIC_URL": base}
        with MinpingRun(tmp_path, srv, database_url(engine), env=env) as run:
            run.start()
            yield srv, campaign, token, base


def wait(u, predicate, timeout: float = 10):  # noqa: ANN001, ANN201
    """``u.wait_for`` from another thread: Playwright's sync API keeps an event loop
    running in this one, where a blocking wait is refused."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(u.wait_for, predicate, timeout).result()


def saved(page) -> None:  # noqa: ANN001
    expect(page.locator("#save-state")).to_have_text("已保存", timeout=WAIT)


def answer_unit(page, key: str, rnd: random.Random, dims: list[str], options: list[str]) -> None:  # noqa: ANN001
    unit = page.locator(f"#u-{key}")
    if not unit.locator("[data-pick]").is_checked():
        unit.locator("[data-pick]").check()
    if rnd.random() < 0.5:  # the shortcut row: every aspect at once
        unit.locator(f'button[data-all="{rnd.choice(options)}"]').click()
    else:
        for d in dims:
            unit.locator(f'input[name="{key}|{d}"][value="{rnd.choice(options)}"]').check()


def test_the_whole_questionnaire_in_the_mini_app(engine, served, page):
    srv, campaign, token, base = served
    u = srv.user(9601, "张", language_code="zh")
    u.send(f"/start {token}")
    wait(u, lambda m: "同意参加" in m.labels)
    u.tap("同意参加")
    wait(u, lambda m: "请勾选您了解的对象" in (m.text or ""))
    # in the chat first: pick 市税务局办税服务厅 and answer it at once
    u.tap(NAMES["tax-hall"])
    wait(u, lambda m: "✓ " + NAMES["tax-hall"] in m.labels)
    u.tap("完成（已选 1 个）")
    wait(u, lambda m: "1/1 · " + NAMES["tax-hall"] in (m.text or ""))
    u.tap("全部比较满意")
    wait(u, lambda m: "跳过" in m.labels)
    u.send("/resume")  # offers the page above the card
    wait(u, lambda m: "也可以在一个页面中填写" in (m.text or ""))
    url = u.open_web_app("📋 在页面中填写")
    assert url.startswith(base + "/app/#tgWebAppData=")

    page.goto(url)
    page.wait_for_selector("#questionnaire", timeout=WAIT)
    screenshot(page, "miniapp-opened")
    tax = page.locator("#u-tax-hall")
    assert tax.locator("[data-pick]").is_checked()  # the chat's pick and answers are here
    assert tax.locator('input[name="tax-hall|development"][value="fairly"]').is_checked()
    assert "已完成 1/1" in page.locator("#count").inner_text()
    assert page.locator("h2").all_inner_texts()[:4] == ["窗口服务单位", "政府部门", "法检机关", "公用事业单位"]

    dims = [d.key for d in campaign.dimensions]
    options = [o.key for o in campaign.scale] + ["dont_know"]
    keys = [e.key for e in campaign.evaluees if e.key != "tax-hall"]
    rnd = random.Random(14)
    for key in keys[:11]:
        answer_unit(page, key, rnd, dims, options)
    page.locator("#u-education textarea").fill("立案窗口<排队>太久 & 指引不清")
    saved(page)
    assert "已完成 12/12" in page.locator("#count").inner_text()

    # the draft is back in the chat too: all 12 picked units are answered, so /resume
    # shows the chat's review with the page's answers and opinion
    u.send("/resume")
    review = wait(u, lambda m: "请核对您的评议（共 12 个对象）" in (m.text or ""))
    assert "其余 12 个未勾选的对象" in review.text and "市教育局" in review.text and "立案窗口<排队>太久" in review.text

    page.reload()  # midway: everything answered so far is still there
    page.wait_for_selector("#questionnaire", timeout=WAIT)
    assert "已完成 12/12" in page.locator("#count").inner_text()
    assert page.locator(".unit.picked").count() == 12 and page.locator(".unit.complete").count() == 12
    assert page.locator("#u-education textarea").input_value() == "立案窗口<排队>太久 & 指引不清"
    screenshot(page, "miniapp-after-reload")

    for key in keys[11:]:
        answer_unit(page, key, rnd, dims, options)
    # one left half-done: submit says so and does nothing
    last = keys[-1]
    page.locator(f'#u-{last} input[name="{last}|{dims[0]}"]').first.check()
    page.locator(f'#u-{last} input[name="{last}|{dims[1]}"]').first.check()
    saved(page)
    page.locator("#u-power [data-pick]").check()
    page.locator(f'#u-{last} button[data-all="satisfied"]').click()
    saved(page)
    assert "已完成 24/24" in page.locator("#count").inner_text()
    page.locator("#submit").click()
    page.wait_for_selector("#confirm:not([hidden])", timeout=WAIT)
    assert "您评议了 24 个对象，其余 0 个" in page.locator("#confirm-text").inner_text()
    screenshot(page, "miniapp-confirm")
    page.locator("[data-cancel]").click()  # not yet
    assert page.locator("#confirm").is_hidden()
    with session_scope(engine) as s:
        assert s.exec(select(Ballot)).all() == [] and s.exec(select(Envelope)).all() == []
    page.locator("#submit").click()
    page.locator("[data-confirm]").click()
    page.wait_for_selector("#notice[data-status=submitted]", timeout=WAIT)
    assert "提交成功" in page.inner_text("#notice")
    screenshot(page, "miniapp-submitted")
    assert foreign_requests(page, base) == []

    chain_pending(engine, campaign.id)
    with session_scope(engine) as s:
        (ballot,) = s.exec(select(Ballot)).all()
        answers = s.exec(select(Answer).where(Answer.ballot_id == ballot.id)).all()
        assert len(answers) == 24 * 6
        tax_hall = {a.dimension_key: a.option_key for a in answers if a.evaluee_key == "tax-hall"}
        assert tax_hall == dict.fromkeys(dims, "fairly")  # given in the chat
        assert [o.text for o in s.exec(select(Opinion))] == ["立案窗口<排队>太久 & 指引不清"]
        result = verify(s, campaigns.get_campaign(s, campaign.id))
        assert result.ok, result

    # the chat knows
    u.send("/resume")
    wait(u, lambda m: "已经提交" in (m.text or ""))
    # and the page, opened again, says so without a form
    page.goto("about:blank")  # (the same URL with another fragment would not load anew)
    page.goto(u.open_web_app("📋 在页面中填写"))
    page.wait_for_selector("#notice[data-status=done]", timeout=WAIT)
    assert "已经提交" in page.inner_text("#notice")


def _with_data(url: str, data: str) -> str:
    fragment = dict(parse_qsl(urlsplit(url).fragment))
    fragment["tgWebAppData"] = data
    return url.split("#")[0] + "#" + urlencode(fragment, quote_via=quote)


def test_launch_data_that_proves_nothing_gets_a_clear_page(engine, served, browser):
    srv, campaign, token, base = served
    u = srv.user(9602, "赵", language_code="zh")
    u.send(f"/start {token}")
    wait(u, lambda m: "同意参加" in m.labels)
    u.tap("同意参加")
    wait(u, lambda m: "请勾选" in (m.text or ""))
    u.send("/resume")
    wait(u, lambda m: "也可以在一个页面中填写" in (m.text or ""))
    good = u.open_web_app()
    fields = dict(parse_qsl(dict(parse_qsl(urlsplit(good).fragment))["tgWebAppData"]))
    forged = urlencode({**fields, "user": fields["user"].replace("9602", "9603")}, quote_via=quote)
    cases = {
        "forged": (_with_data(good, forged), "登录数据无效"),
        "stale": (u.open_web_app(auth_date=int(time.time()) - 3 * 86_400), "登录已过期"),
        "another bot": (_with_data(good, srv.web_app_init_data(9602, token="1:another-bot")), "登录数据无效"),
        "someone else": (_with_data(good, srv.web_app_init_data(9604)), "还没有参加任何评议活动"),
        "outside Telegram": (base + "/app/", "请在 Telegram 中打开此页面"),
    }
    for name, (url, words) in cases.items():
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # nothing kept
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".notice.error", timeout=WAIT)
        assert words in page.inner_text("main"), name
        assert page.locator("#questionnaire").count() == 0
        screenshot(page, f"miniapp-refused-{name}")
        context.close()
    with session_scope(engine) as s:
        assert s.exec(select(Ballot)).all() == []
