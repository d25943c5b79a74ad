"""Organizer digests end to end: the real bot (aiogram / python-telegram-bot) and the
outbox sender over HTTP against the local Bot API server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.digest_worker import run_worker
from bot.jobs.digests import run_digests
from bot.scheduler import Scheduler
from bot.sender import Sender
from reports import tally
from storage import links
from storage.db import session_scope
from tests.reports.handworked import load_handworked

pytestmark = pytest.mark.postgres

T = 8.0
ORGANIZER = 777
NOW = datetime.now(UTC).replace(hour=10, minute=2, second=0, microsecond=0)  # 18:02 in Shanghai: a firing


@pytest.fixture
def loaded(engine):
    """Overrides the e2e conftest's campaign: the hand-worked one, organizer 777."""
    return load_handworked(engine), None


async def drain(engine, runtime):
    """The digest worker process draws what was asked for; the sender delivers it."""
    assert await asyncio.get_running_loop().run_in_executor(None, run_worker, engine) == 0
    await asyncio.wait_for(Sender(engine, runtime.transport, per_chat_interval=0.05, poll_interval=0.05).drain(), 30)


def photos(u):
    return [m for m in u.messages() if m.kind == "photo"]


async def test_scheduled_digest_reaches_the_organizer_once_across_a_restart(engine, api_server, running_bot):
    org = api_server.user(ORGANIZER, "组织者", language_code="zh")
    org.send("/status")
    status = await org.wait_for_async("服务对象", T, new=True)
    assert "交通局" not in status.text  # sealed and open: progress only
    stranger = api_server.user(9100, "路人", language_code="zh")
    stranger.send("/digest")
    await stranger.wait_for_async("仅对评议组织者开放", T, new=True)
    # The firing, then a "restart" (a second scheduler process) at the same firing.
    for holder, minute in (("before-restart", 1), ("after-restart", 3)):
        sched = Scheduler(engine, clock=lambda m=minute: NOW.replace(minute=m), jobs={"digest": run_digests},
                          holder=holder)
        sched.tick()
        sched.stop()
    await drain(engine, running_bot)
    digests = [m for m in org.messages() if "【汇总通报】" in (m.text or "")]
    assert len(digests) == 1 and "密封评议" in digests[0].text and "交通局" not in digests[0].text
    assert [p.caption for p in photos(org)] == ["各评议层面回收进度"]
    assert photos(org)[0].photo.data[:4] == b"\x89PNG"
    assert not photos(stranger) and not any("【汇总通报】" in (m.text or "") for m in stranger.messages())


async def test_bound_organizer_asks_for_a_results_digest_after_close(engine, api_server, running_bot):
    with session_scope(engine) as s:
        code = links.issue_codes(s, "test-2026", "organizer", 1)[0].token
    u = api_server.user(9200, "新组织者", language_code="zh")
    u.send("/digest")
    await u.wait_for_async("仅对评议组织者开放", T, new=True)
    u.send(f"/start {code}")
    await u.wait_for_async("您已成为", T, new=True)
    other = api_server.user(9201, "Other", language_code="en")
    other.send(f"/start {code}")
    await other.wait_for_async("used already", T, new=True)
    with session_scope(engine) as s:
        from storage.campaigns import get_campaign
        tally.close_campaign(s, get_campaign(s, "test-2026"))
    u.send("/digest")
    await u.wait_for_async("正在生成", T, new=True)
    await drain(engine, running_bot)
    digest = next(m for m in u.messages() if "【汇总通报】" in (m.text or ""))
    assert "1. 水利局  71.40分" in digest.text and "3. 交通局  49.44分" in digest.text
    assert {p.caption for p in photos(u)} == {"综合排名 · 政府部门", "各评议内容满意率", "评价等级分布", "各评议层面回收进度"}
