"""Webhook mode, for both frameworks and both databases: the local Bot API server posts
updates to the bot's webhook server with the secret token, as Telegram does."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from sqlmodel import func, select

from bot.runtime import BotRuntime
from bot.service import Service
from bot.telegram.webhook import HEADER, WebhookConfig
from storage.db import session_scope
from storage.models import Answer, Ballot, Person
from tests.e2e.conftest import TOKEN
from tests.e2e.rater import T, card_with, enrol, say, tap
from tests.factories import chain_pending

pytestmark = pytest.mark.postgres

SECRET = "s3cret_Token-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



@pytest.fixture
async def webhook_bot(engine, api_server, framework, loaded):
    port = free_port()
    cfg = WebhookConfig(f"http://127.0.0.1:{port}/telegram", SECRET, "127.0.0.1", port)
    runtime = BotRuntime(Service(engine), framework, TOKEN, api_server.base_url, webhook=cfg)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_a_rater_answers_through_the_webhook(engine, api_server, webhook_bot, loaded):
    _, token = loaded
    assert api_server.webhook_url == webhook_bot.webhook.url
    assert api_server.state.webhook.secret_token == SECRET
    u = api_server.user(9101, "王", language_code="zh")
    await enrol(u, token)
    await tap(u, "满意", card_with("交通局", "工作效能"))
    await tap(u, "比较满意", lambda m: "跳过" in m.labels)
    await say(u, "办事快了", card_with("水利局"))
    await tap(u, "基本满意", card_with("水利局", "工作效能"))
    await tap(u, "不了解", lambda m: "跳过" in m.labels)
    await tap(u, "跳过", lambda m: "提交" in m.labels)
    await tap(u, "提交", lambda m: "确认提交" in m.labels)
    await tap(u, "确认提交", lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""))
    chain_pending(engine)
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == 1
        answers = {(a.evaluee_key, a.dimension_key): a.option_key for a in s.exec(select(Answer))}
        assert answers[("transport", "style")] == "satisfied"
        assert answers[("water", "efficiency")] is None
    assert webhook_bot.webhook_endpoint.refused == 0
    # Updates came by webhook only: the bot never polled.
    assert not api_server.calls_of("getUpdates")


async def test_a_request_without_the_secret_is_refused_and_changes_nothing(engine, api_server, webhook_bot, loaded):
    _, token = loaded
    forged = {"update_id": 990_001, "message": {
        "message_id": 1, "date": 1_700_000_000, "chat": {"id": 9102, "type": "private"},
        "from": {"id": 9102, "is_bot": False, "first_name": "X"}, "text": f"/start {token}",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    url = webhook_bot.webhook.url
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {HEADER: "wrong"}, {HEADER: SECRET + "x"}):
            async with http.post(url, json=forged, headers=headers) as resp:
                assert resp.status == 403
    assert webhook_bot.webhook_endpoint.refused == 3
    # A real user's update, delivered by the server with the secret, still works.
    u = api_server.user(9103, language_code="zh")
    await say(u, f"/start {token}", lambda m: "同意参加" in m.labels)
    await api_server.wait_idle_async(T)
    with session_scope(engine) as s:
        assert s.exec(select(Person).where(Person.chat_id == 9102)).first() is None
    assert not [c for c in api_server.calls_of("sendMessage") if str(c.params.get("chat_id")) == "9102"]


async def test_an_update_is_acknowledged_only_once_committed(engine, api_server, webhook_bot, loaded):
    """So an update in hand when the bot dies stays with Telegram, which delivers it again."""
    _, token = loaded
    u = api_server.user(9104, language_code="zh")  # the chat exists on the server; the update comes straight
    update = {"update_id": 990_101, "message": {
        "message_id": 1, "date": 1_700_000_000, "chat": {"id": 9104, "type": "private"},
        "from": {"id": 9104, "is_bot": False, "first_name": "Y", "language_code": "zh"}, "text": f"/start {token}",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    async with aiohttp.ClientSession() as http:
        async with http.post(webhook_bot.webhook.url, json=update, headers={HEADER: SECRET}) as resp:
            assert resp.status == 200
    # By the time Telegram has its 200, the person is enrolled; the consent screen follows.
    with session_scope(engine) as s:
        assert s.exec(select(Person).where(Person.chat_id == 9104)).first() is not None
    await u.wait_for_async(lambda m: "同意参加" in m.labels, T)
