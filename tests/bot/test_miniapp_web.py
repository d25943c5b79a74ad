"""The Mini App over HTTP (``bot.miniapp.web``): the page, and the API's refusal of
launch data that is missing, forged, signed for another bot, stale, or of someone who
takes no part, with a clear page and nothing changed."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from devtools.devserver import webapp
from bot.miniapp.links import app_url
from bot.miniapp.web import MiniApp
from bot.service import Service
from bot.settings import Settings
from flows.campaign import Campaign
from storage import campaigns, conversations, links, people
from storage.db import session_scope
from tests.bot.test_service import Rater, open_recipients

pytestmark = pytest.mark.postgres
TOKEN = "4242:mini-app-token"


@pytest.fixture
async def client(engine):
    campaign = Campaign.model_validate(open_recipients())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    service = Service(engine)
    Rater(service, 77).start(token)
    app = web.Application()
    MiniApp(service, TOKEN, max_age=3600).mount(app)
    async with TestClient(TestServer(app)) as c:
        c.engine = engine
        yield c


def signed(user_id: int = 77, *, token: str = TOKEN, age: int = 0, language: str = "zh") -> str:
    user = {"id": user_id, "is_bot": False, "first_name": "李", "language_code": language}
    return webapp.init_data(user, token, auth_date=int(time.time()) - age)


async def post(client, init: str | None, op: str = "view", **kw):
    body = {"init": init, "op": op, **kw}
    resp = await client.post("/app/api", json=body)
    return resp.status, await resp.json()


def stored(engine, chat_id: int = 77) -> dict | None:
    with session_scope(engine) as s:
        person = people.find_person(s, chat_id)
        conv = conversations.load(s, person.id, "test-2026", "questionnaire") if person else None
        return conv.state if conv else None


async def test_the_page_is_one_self_contained_document(client):
    resp = await client.get("/app/")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in page and f'<style nonce="{nonce}">' in page
    # nothing fetched from anywhere else: no src/href to another host, no @import
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page) and "@import" not in page
    assert (await client.get("/app", allow_redirects=False)).status == 308


async def test_a_valid_rater_gets_the_questionnaire(client):
    status, body = await post(client, signed())
    assert status == 200 and body["status"] == "ok"
    assert "交通局" in body["html"] and 'name="transport|style"' in body["html"]
    status, body = await post(client, signed(), "save", answers={"transport": {"style": "fairly"}})
    assert status == 200 and "html" not in body and body["complete"] == {"transport": False, "water": False}
    assert stored(client.engine)["answers"] == {"transport": {"style": "fairly"}}
    status, body = await post(client, signed(), locale="en")
    assert "Transport Bureau" in body["html"] and "中文" in body["html"]


async def test_html_in_campaign_texts_and_opinions_is_escaped(client):
    await post(client, signed(), "save", opinions={"water": "<script>alert(1)</script> & <b>"})
    _, body = await post(client, signed())
    assert "<script>alert(1)" not in body["html"] and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in body["html"]


def tamper(init: str, **changes: str) -> str:
    fields = dict(parse_qsl(init))
    fields.update(changes)
    return urlencode(fields)


@pytest.mark.parametrize(("case", "http", "status", "words"), [
    ("missing", 401, "missing", "请在 Telegram 中打开此页面"),
    ("garbage", 403, "forged", "登录数据无效"),
    ("other user in signed data", 403, "forged", "登录数据无效"),
    ("hash changed", 403, "forged", "登录数据无效"),
    ("no hash", 403, "forged", "登录数据无效"),
    ("another bot's token", 403, "forged", "登录数据无效"),
    ("from the future", 403, "forged", "登录数据无效"),
    ("stale", 403, "stale", "登录已过期"),
])
async def test_launch_data_that_proves_nothing_is_refused_and_changes_nothing(client, case, http, status, words):
    before = stored(client.engine)
    good = signed()
    init = {
        "missing": None,
        "garbage": "hello=world",
        "other user in signed data": tamper(good, user=json.dumps({"id": 78, "first_name": "x"})),
        "hash changed": tamper(good, hash="0" * 64),
        "no hash": urlencode({k: v for k, v in parse_qsl(good) if k != "hash"}),
        "another bot's token": signed(token="999:someone-else"),
        "from the future": signed(age=-3600),
        "stale": signed(age=2 * 3600),
    }[case]
    got, body = await post(client, init, "submit", answers={"transport": {"style": "dissatisfied"}})
    assert (got, body["status"]) == (http, status)
    assert words in body["html"] and 'class="notice error"' in body["html"]
    assert stored(client.engine) == before


async def test_signed_data_of_someone_else_only_ever_reaches_their_own_draft(client):
    # Valid launch data of another Telegram user who takes no part: refused in the chat's words.
    got, body = await post(client, signed(78), "save", answers={"transport": {"style": "dissatisfied"}})
    assert (got, body["status"]) == (403, "refused") and "还没有参加任何评议活动" in body["html"]
    assert stored(client.engine, 78) is None and stored(client.engine)["answers"] == {}


async def test_bad_requests_get_a_clear_answer(client):
    resp = await client.post("/app/api", data=b"{not json")
    assert resp.status == 400 and (await resp.json())["status"] == "invalid"
    resp = await client.post("/app/api", data=b"x" * (300 * 1024))
    assert resp.status in (400, 413) and (await resp.json())["status"] == "invalid"
    got, body = await post(client, signed(), "rename everything")
    assert (got, body["status"]) == (400, "invalid") and "数据无效，未保存" in body["html"]


@pytest.mark.parametrize(("public_url", "api", "expected"), [
    (None, "https://api.telegram.org", None),
    ("https://bot.example.org", "https://api.telegram.org", "https://bot.example.org/app/"),
    ("https://bot.example.org/minping/", "https://api.telegram.org", "https://bot.example.org/minping/app/"),
    ("http://bot.example.org", "https://api.telegram.org", None),  # Telegram would refuse the message
    ("http://127.0.0.1:8080", "http://127.0.0.1:8081", "http://127.0.0.1:8080/app/"),
    ("bot.example.org", "https://api.telegram.org", None),
])
def test_the_button_points_at_an_https_page_or_is_left_out(public_url, api, expected):
    settings = Settings(MINPING_PUBLIC_URL=public_url, TELEGRAM_API_BASE=api)
    assert app_url(settings) == expected


def test_our_signature_check_agrees_with_aiogram_on_good_and_tampered_data():
    """``check_signature`` (written out so that a PTB process need not import aiogram)
    says what aiogram's ``check_webapp_signature`` says."""
    from aiogram.utils.web_app import check_webapp_signature

    from bot.miniapp.auth import check_signature

    good = signed()
    cases = [good, signed(token="999:other"), good.replace("auth_date=", "auth_date=1"), good + "&extra=1",
             "&".join(p for p in good.split("&") if not p.startswith("hash=")), "", "hash=abc", "a=%ZZ&&"]
    for data in cases:
        for token in (TOKEN, "999:other"):
            assert check_signature(token, data) == check_webapp_signature(token, data), (token, data)
    assert check_signature(TOKEN, good) and not check_signature("999:other", good)
