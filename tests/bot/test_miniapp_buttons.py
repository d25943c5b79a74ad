"""The Mini App's button on the invitation (through the outbox and the sender, aiogram
and PTB) and on /resume, only with a usable MINPING_PUBLIC_URL; the local Bot API
server's launch data as Telegram signs it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiogram.utils.web_app import check_webapp_signature, safe_parse_webapp_init_data
from sqlmodel import select

from devtools.devserver import BotAPIServer
from bot.jobs import reminders
from bot.miniapp import auth
from bot.sender import Sender
from bot.service import Service
from bot.settings import get_settings
from bot.telegram.aiogram_app import AiogramTransport, make_bot
from flows.campaign import Campaign
from storage import campaigns, draw, links
from storage.db import session_scope
from storage.models import Outbox
from tests.bot.test_service import Rater, open_recipients
from tests.chat_user import ChatUser
from tests.factories import campaign_data

TOKEN = "5151:buttons"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def public_url(monkeypatch):
    def set_url(url: str | None) -> None:
        if url is None:
            monkeypatch.delenv("MINPING_PUBLIC_URL", raising=False)
        else:
            monkeypatch.setenv("MINPING_PUBLIC_URL", url)
        get_settings.cache_clear()

    yield set_url
    get_settings.cache_clear()


def invite_everyone(engine) -> list[Outbox]:  # noqa: ANN001
    campaign = Campaign.model_validate(campaign_data())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    service = Service(engine, clock=lambda: NOW)
    for chat in (601, 602):
        p = ChatUser(service, chat)
        p.start(token)
        p.tap("同意参加")
    with session_scope(engine) as s:
        draw.commit(s, campaign, NOW)
        draw.reveal(s, campaign, NOW)
        reminders.invite(s, campaign, NOW)
    with session_scope(engine) as s:
        return list(s.exec(select(Outbox).where(Outbox.kind == "invitation").order_by(Outbox.chat_id)))


@pytest.mark.postgres
@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_the_invitation_opens_the_mini_app(engine, public_url, framework):
    public_url("https://bot.example.org")
    rows = invite_everyone(engine)
    assert [r.buttons for r in rows] == [[[["开始评议", "Cs"]], [["📋 在页面中填写", "", "https://bot.example.org/app/"]]]] * 2
    with BotAPIServer(TOKEN, rate_limit=False) as srv:
        for chat in (601, 602):
            srv.user(chat)
        if framework == "aiogram":
            bot = make_bot(srv.token, srv.base_url)
            try:
                await asyncio.wait_for(Sender(engine, AiogramTransport(bot), poll_interval=0.1).drain(), 20)
            finally:
                await bot.session.close()
        else:
            from telegram import Bot

            from bot.telegram.ptb_app import PTBTransport

            bot = Bot(srv.token, base_url=srv.base_url + "/bot")
            await bot.initialize()
            try:
                await asyncio.wait_for(Sender(engine, PTBTransport(bot), poll_interval=0.1).drain(), 20)
            finally:
                await bot.shutdown()
        u = srv.user(601)
        (invitation,) = u.messages()
        assert invitation.raw["reply_markup"]["inline_keyboard"] == [
            [{"text": "开始评议", "callback_data": "Cs"}],
            [{"text": "📋 在页面中填写", "web_app": {"url": "https://bot.example.org/app/"}}]]
        url = u.open_web_app("📋 在页面中填写")
        assert url.startswith("https://bot.example.org/app/#tgWebAppData=")
        data = dict(parse_qsl(urlsplit(url).fragment))["tgWebAppData"]
        assert auth.verify(data, TOKEN, 60).id == 601


def test_without_a_usable_public_url_there_is_no_button(engine, public_url):
    public_url("http://bot.example.org")  # not https: Telegram would refuse the whole message
    rows = invite_everyone(engine)
    assert [r.buttons for r in rows] == [[[["开始评议", "Cs"]]]] * 2


def test_resume_offers_the_page_above_the_card(engine, public_url):
    campaign = Campaign.model_validate(open_recipients())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        token = links.group_link(s, campaign.id, "recipients").token
    service = Service(engine)
    r = Rater(service, 611)
    r.start(token)
    public_url(None)
    assert all(not b.web_app for m in r.command("resume").messages for b in m.all_buttons())
    public_url("https://bot.example.org/")
    reply = r.command("resume")
    offer, *cards = reply.messages
    assert "也可以在一个页面中填写" in offer.text
    assert [b.web_app for b in offer.all_buttons()] == ["https://bot.example.org/app/"]
    assert "交通局" in cards[-1].text and cards[-1].card  # the card stays last, to tap on
    r.tap("满意")  # and still works
    assert "工作效能" in r.screen.text
    # no offer to someone with nothing to answer
    nobody = ChatUser(service, 612)
    assert all(not b.web_app for m in nobody.command("resume").messages for b in m.all_buttons())


def test_launch_data_is_signed_as_telegram_does():
    with BotAPIServer(TOKEN) as srv:
        u = srv.user(700, "李", language_code="en")
        data = srv.web_app_init_data(700, auth_date=1_790_000_000)
    fields = dict(parse_qsl(data))
    # aiogram's own check of Telegram's scheme accepts it …
    assert check_webapp_signature(TOKEN, data)
    parsed = safe_parse_webapp_init_data(TOKEN, data)
    assert parsed.user.id == 700 and parsed.user.language_code == "en"
    # … and so does the spec, step by step
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert hmac.new(secret, check.encode(), hashlib.sha256).hexdigest() == fields["hash"]
    assert json.loads(fields["user"])["first_name"] == "李" and fields["auth_date"] == "1790000000"
    assert not check_webapp_signature("5151:another", data)
    with pytest.raises(LookupError, match="no Mini App button"):
        u.open_web_app()
