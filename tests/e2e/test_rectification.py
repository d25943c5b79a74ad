"""The rectification loop end to end over HTTP: the real bot (aiogram or
python-telegram-bot) and the outbox sender talk to the local Bot API server; people are
users of that server. Close, publish, the evaluee receives its notice and files a plan
for each item, one item goes overdue (an injected clock and job times), is reminded and
escalated, the follow-up survey runs, the rate is reported and a second round begins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import notice
from bot.jobs.rectification import rectification_followup, rectification_reminders
from bot.runtime import BotRuntime
from bot.sender import Sender
from bot.service import Service
from storage import rectification as rs
from storage.db import session_scope
from tests.e2e.conftest import TOKEN
from tests.feedback_setup import CLOSED_AT, ORGANIZER, RECIPIENTS, STAFF, closed_campaign, evaluee_code

pytestmark = pytest.mark.postgres

T = 10.0


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def has(*words):
    return lambda m: all(w in (m.text or "") for w in words)


async def drain(engine, runtime) -> None:
    await asyncio.wait_for(Sender(engine, runtime.transport, poll_interval=0.05).drain(), 60)


async def say(u, text, expect):
    u.send(text)
    return await u.wait_for_async(expect, T, new=True)


async def tap(u, label, expect):
    u.tap(label)
    return await u.wait_for_async(expect, T, new=True)


async def file_plan(u, first_label, measure, owner, deadline):
    await tap(u, first_label, has("请发送整改措施"))
    await say(u, measure, has("责任人"))
    await say(u, owner, has("完成时限"))
    return await say(u, deadline, has("整改方案 · 交通局"))  # the plan card after "已保存方案N"


async def test_close_publish_plan_overdue_followup_second_round(engine, api_server, framework):
    campaign = closed_campaign(engine)  # ballots sealed, `close` run (reports.tally.close_campaign)
    clock = Clock(CLOSED_AT + timedelta(hours=1))  # 2027-01-10 11:00 in Shanghai
    runtime = BotRuntime(Service(engine, clock=clock), framework, TOKEN, api_server.base_url)
    await runtime.start()
    try:
        # The raters talked to the bot when they rated (here their ballots were stored
        # directly), so the server knows their chats.
        raters = {chat: api_server.user(chat, f"R{chat}", language_code="zh") for chat in (*RECIPIENTS, STAFF)}
        organizer = api_server.user(ORGANIZER, "组织者", language_code="zh")
        for u in (*raters.values(), organizer):
            await say(u, "/help", has("民评"))
        contact = api_server.user(8001, "交通局办公室", language_code="zh")
        await say(contact, f"/start {evaluee_code(engine, campaign, 'transport')}", has("联系人", "交通局"))

        with session_scope(engine) as s:
            notice.publish(s, campaign, clock())
        await drain(engine, runtime)
        notice_text = "\n".join(m.text or "" for m in contact.messages())
        assert "整改通知书" in notice_text and "2027-02-09" in notice_text
        assert "1. " in notice_text and "2. " in notice_text and "3. " in notice_text and "4. " not in notice_text
        assert "希望<b>简化</b>流程 & 公开办事指南" in notice_text  # shown as typed, not as HTML
        assert "13812345678" not in notice_text and "王小明" not in notice_text and "〔已隐去〕" in notice_text
        # Anonymity: the staff group (1 ballot < 2) is in no figure; no rater is named.
        assert "所在单位" not in notice_text and "工作作风：66.7%（有效 3" in notice_text
        for rater in (*RECIPIENTS, STAFF):
            assert str(rater) not in notice_text

        # The evaluee files a plan for each item: item 1 alone, items 2-3 together.
        await tap(contact, "制定整改方案", has("尚未安排：第 1-3 项"))
        await file_plan(contact, "为第 1 项制定方案", "增设周末窗口", "行政审批科", "2027-01-20")
        contact.tap("其余各项一并制定")
        await contact.wait_for_async(has("请发送整改措施"), T, new=True)
        await say(contact, "公开办事指南", has("责任人"))
        await say(contact, "办公室", has("完成时限"))
        await say(contact, "2027-01-01", has("已经过去了"))  # a past date: clear error, nothing lost
        await say(contact, "2027年2月5日", has("整改方案 · 交通局", "每一项意见都已有整改方案"))

        # Plan 1 goes overdue: the contact is told, the organizer gets the escalation.
        rectification_reminders(engine, datetime(2027, 1, 18, 2, 0, tzinfo=UTC))
        rectification_reminders(engine, datetime(2027, 1, 21, 2, 0, tzinfo=UTC))
        await drain(engine, runtime)
        assert any("将于 2027-01-20 到期" in (m.text or "") for m in contact.messages())
        assert any("已于 2027-01-20 到期仍未完成" in (m.text or "") for m in contact.messages())
        assert any("整改逾期" in (m.text or "") and "增设周末窗口" in (m.text or "") for m in organizer.messages())
        # Plan 2 is reported done in time.
        clock.now = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)
        await say(contact, "/plan", has("整改方案 · 交通局"))
        await tap(contact, "标记完成", has("请选择已完成的方案"))
        await tap(contact, "方案2", has("✅ 已完成"))

        # After the round's deadline the raters are asked; they answer with the campaign's scale.
        end = datetime(2027, 2, 9, 16, 30, tzinfo=UTC)
        rectification_followup(engine, end)
        await drain(engine, runtime)
        answers = {RECIPIENTS[0]: "满意", RECIPIENTS[1]: "不满意", RECIPIENTS[2]: "基本满意", STAFF: "不了解"}
        for chat, label in answers.items():
            rater = raters[chat]
            question = rater.last()
            assert "您对其整改情况满意吗" in question.text and "交通局" in question.text
            rater.tap(label)
            await rater.wait_for_async(has("感谢您的评价"), T, new=True)

        # Everyone answered: the rate (1 of 3 valid) is reported, below 80%: round 2.
        rectification_followup(engine, end + timedelta(minutes=5))
        await drain(engine, runtime)
        report = contact.last()
        assert "满意度 33.3%" in report.text and "第 2 轮整改" in report.text
        assert any("满意度 33.3%" in (m.text or "") for m in organizer.messages())
        await say(organizer, "/rectification", has("整改台账", "第 1 轮整改满意度 33.3%（有效 3）"))
        await tap(contact, "制定整改方案", has("第 2 轮", "尚未安排：第 1-3 项"))
        with session_scope(engine) as s:
            assert [r.number for r in rs.rounds(s, campaign.id, "transport")] == [1, 2]

        # A rater using the evaluee's commands is refused.
        rater = raters[RECIPIENTS[0]]
        await say(rater, "/notice", has("此功能仅对被评议对象的联系人开放"))
    finally:
        await runtime.stop()
