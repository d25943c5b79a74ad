"""Enrolment, the draw, invitations and reminders over HTTP, for both frameworks and both
databases: 40 people enrol in two sampled groups through their links and consent; the
pools are committed and drawn; invitations and reminders go through the outbox and the
real sender; half of the drawn answer, and the reminders reach exactly the other half."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import reminders
from bot.runtime import BotRuntime
from bot.sender import Sender
from bot.service import Service
from flows import sampling
from flows.campaign import Campaign
from storage import campaigns, draw, links
from storage.db import session_scope
from storage.status import group_progress
from tests.e2e.conftest import TOKEN
from tests.factories import campaign_data

pytestmark = pytest.mark.postgres
T = 15.0
GROUPS = ("recipients", "deputies")


@pytest.fixture
def drawn_campaign(engine):
    data = campaign_data(id="draw-2026", schedule={"reminders_after_hours": [24]}, rater_groups=[
        {"key": "recipients", "label": {"zh": "服务对象"}, "weight": 35, "sample": 15},
        {"key": "deputies", "label": {"zh": "两代表一委员"}, "weight": 20, "sample": 15},
        {"key": "public", "label": {"zh": "社会群众"}, "weight": 10, "open": True},
    ])
    campaign = Campaign.model_validate(data)
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        tokens = {g: links.group_link(s, campaign.id, g).token for g in GROUPS}
    return campaign, tokens


def has(*words):
    return lambda m: all(w in (m.text or "") for w in words)


def labelled(label):
    return lambda m: label in m.labels


async def enrol(u, token):
    u.send(f"/start {token}")
    await u.wait_for_async(labelled("同意参加"), T, new=True)
    u.tap("同意参加")
    await u.wait_for_async(has("进入抽签名单"), T, new=True)


async def answer(u):
    await u.wait_for_async(labelled("开始评议"), T)
    u.tap("开始评议")
    await u.wait_for_async(has("交通局", "工作作风"), T, new=True)
    for expect in (has("交通局", "工作效能"), labelled("跳过")):
        u.tap("满意")
        await u.wait_for_async(expect, T, new=True)
    u.tap("跳过")
    await u.wait_for_async(has("水利局", "工作作风"), T, new=True)
    for expect in (has("水利局", "工作效能"), labelled("跳过")):
        u.tap("比较满意")
        await u.wait_for_async(expect, T, new=True)
    u.tap("跳过")
    await u.wait_for_async(labelled("提交"), T, new=True)
    u.tap("提交")
    await u.wait_for_async(labelled("确认提交"), T, new=True)
    u.tap("确认提交")
    await u.wait_for_async(lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""), T, new=True)


async def drain(runtime) -> None:
    await asyncio.wait_for(Sender(runtime.service.engine, runtime.transport, poll_interval=0.05).drain(), 60)


async def test_enrol_draw_invite_answer_remind_status(engine, api_server, framework, drawn_campaign):
    campaign, tokens = drawn_campaign
    users = {g: [api_server.user(20_000 + 100 * i + n, f"U{n}", language_code="zh") for n in range(20)]
             for i, g in enumerate(GROUPS)}
    async with BotRuntime(Service(engine), framework, TOKEN, api_server.base_url) as runtime:
        await asyncio.gather(*(enrol(u, tokens[g]) for g in GROUPS for u in users[g]))
        now = datetime.now(UTC)
        with session_scope(engine) as s:
            committed = draw.commit(s, campaign, now)
            pool_file = draw.pool_file(s, campaign)
        assert {g: len(p) for g, p in committed.pools.items()} == {"recipients": 20, "deputies": 20}
        with session_scope(engine) as s:
            revealed = draw.reveal(s, campaign, now)
            published = draw.drawn_file(s, campaign)
            assert reminders.invite(s, campaign, now) == 30
        # Anyone can check the draw from what was published.
        check = sampling.verify(pool_file, revealed.seed, committed.commitment, published["drawn"])
        assert check.ok, check.problems
        await drain(runtime)
        everyone = [u for g in GROUPS for u in users[g]]
        invited = [u for u in everyone if any("随机抽中" in (m.text or "") for m in u.messages())]
        assert len(invited) == 30
        # Someone not drawn who tries to answer is told so.
        outsider = next(u for u in everyone if u not in invited)
        outsider.send("/resume")
        await outsider.wait_for_async(has("未被抽中"), T, new=True)
        answering, silent = invited[::2], invited[1::2]
        await asyncio.gather(*(answer(u) for u in answering))
        with session_scope(engine) as s:
            assert reminders.remind(s, campaign, now + timedelta(hours=25)) == 15
            assert reminders.remind(s, campaign, now + timedelta(hours=26)) == 0
        await drain(runtime)
        reminded = {u.chat_id for u in everyone if any("提醒：" in (m.text or "") for m in u.messages())}
        assert reminded == {u.chat_id for u in silent}
        assert all(sum("提醒：" in (m.text or "") for m in u.messages()) == 1 for u in silent)
        # A reminded rater can start from the reminder's button.
        silent[0].tap("继续评议")
        await silent[0].wait_for_async(has("交通局", "工作作风"), T, new=True)
    with session_scope(engine) as s:
        progress = {p.group: p for p in group_progress(s, campaign)}
    drawn_in = {g: {u.chat_id for u in users[g]} & {u.chat_id for u in invited} for g in GROUPS}
    for g in GROUPS:
        p = progress[g]
        answered = len(drawn_in[g] & {u.chat_id for u in answering})
        partial = 1 if silent[0].chat_id in drawn_in[g] else 0
        assert (p.enrolled, p.pool, p.drawn, p.invited, p.submitted, p.opted_out) == (20, 20, 15, 15, answered, 0)
        assert p.started == partial
        assert p.rr1 == pytest.approx(answered / 15) and p.rr2 == pytest.approx((answered + partial) / 15)
    assert progress["recipients"].submitted + progress["deputies"].submitted == 15
