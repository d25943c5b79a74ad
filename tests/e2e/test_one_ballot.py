"""One person, one ballot, whatever Telegram delivers: every update twice in its batch
(twice posted to the webhook, concurrently) and once more a second later, double taps
(two updates with distinct ids for one button), a new person's first two messages at
once. Both frameworks, polling and webhook, SQLite and PostgreSQL, over HTTP."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from devtools.devserver import BotAPIServer
from bot.runtime import BotRuntime
from bot.service import Service
from bot.telegram.webhook import WebhookConfig
from reports.verify import verify
from storage import parked
from storage.db import session_scope
from storage.models import Ballot, Membership, Opinion
from tests.e2e.conftest import TOKEN
from tests.e2e.rater import T
from tests.run_process import free_port
from tests.factories import chain_pending

pytestmark = pytest.mark.postgres

RATERS = 6
SCALE = ("满意", "比较满意", "基本满意", "不满意")


@pytest.fixture(params=["polling", "webhook"])
def mode(request) -> str:
    return request.param


@pytest.fixture
def twice_server():
    with BotAPIServer(token=TOKEN, duplicate_updates=True, redeliver_after=0.5, webhook_chat_order=False) as srv:
        yield srv


@pytest.fixture
async def bot(engine, twice_server, framework, mode, loaded):
    webhook = None
    if mode == "webhook":
        port = free_port()
        webhook = WebhookConfig(f"http://127.0.0.1:{port}/hook", "s3cret", "127.0.0.1", port)
    runtime = BotRuntime(Service(engine), framework, TOKEN, twice_server.base_url, webhook=webhook)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def double_tap(u, label: str) -> None:  # noqa: ANN001
    """Two presses of one button before the bot answered: two updates, distinct ids."""
    card = next(m for m in reversed(u.messages(include_deleted=False)) if label in m.labels)
    data = card.button_data(label)
    u.tap_data(card.message_id, data)
    u.tap_data(card.message_id, data)


async def rater(u, token: str, n: int) -> None:  # noqa: ANN001
    u.send(f"/start {token}")
    u.send("你好")  # a new person's first two messages, at once
    await u.wait_for_async(lambda m: "同意参加" in m.labels, T)
    double_tap(u, "同意参加")
    for evaluee in ("交通局", "水利局"):
        for dim in ("工作作风", "工作效能"):
            await u.wait_for_async(lambda m, e=evaluee, d=dim: m.buttons and e in m.text and d in m.text
                                   and "满意" in m.labels, T)
            double_tap(u, SCALE[(n + len(dim)) % 4])
            await asyncio.sleep(0.05)
        await u.wait_for_async(lambda m: "跳过" in m.labels and "满意" not in m.labels, T)
        if evaluee == "交通局":
            u.send(f"意见{n:03d}")
        else:
            double_tap(u, "跳过")
    await u.wait_for_async(lambda m: "提交" in m.labels, T)
    double_tap(u, "提交")
    await u.wait_for_async(lambda m: "确认提交" in m.labels, T)
    double_tap(u, "确认提交")
    await u.wait_for_async(lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""), T)


async def test_every_update_twice_and_double_taps_give_one_ballot_each(engine, twice_server, bot, loaded):
    campaign, token = loaded
    users = [twice_server.user(7100 + n, language_code="zh") for n in range(RATERS)]
    await asyncio.gather(*(rater(u, token, n) for n, u in enumerate(users)))
    await twice_server.wait_idle_async(timeout=15, quiet=1.0)  # the late redeliveries too
    chain_pending(engine)
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == RATERS
        texts = sorted(o.text for o in s.exec(select(Opinion)))
        assert texts == [f"意见{n:03d}" for n in range(RATERS)]  # each opinion once
        assert s.exec(select(func.count()).select_from(Membership).where(Membership.submitted)).one() == RATERS
        assert parked.listing(s) == []  # nothing failed
        report = verify(s, campaign)
    assert report.ok, report.problems
    # Every rater saw exactly one thank-you.
    for u in users:
        thanks = [m for m in u.messages() if "谢谢" in (m.text or "") or "感谢" in (m.text or "")]
        assert len(thanks) == 1, u.transcript()
