"""/metrics of a real ``minping run`` (webhook mode) after three raters answered and the
outbox sent a few messages: parsed with Prometheus' own text-format parser, the counts
are what happened, and no label or value carries a chat id or a text."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.devserver import BotAPIServer, RateLimitConfig
from storage import outbox
from storage.db import session_scope
from tests.e2e.rater import card_with, enrol, open_campaign, say, tap
from tests.run_process import MinpingRun, database_url

pytestmark = pytest.mark.postgres

RATERS = (80_001, 80_002, 80_003)
BLOCKER = 80_009


async def scrape(port: int) -> tuple[str, dict[tuple[str, frozenset], float]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        body = await resp.text()
    samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return body, samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def walk(u, token: str, n: int) -> None:  # noqa: ANN001
    await enrol(u, token)
    await tap(u, "满意", card_with("交通局", "工作效能"))
    await tap(u, "比较满意", lambda m: "跳过" in m.labels)
    await say(u, f"意见{n}号办事快了", card_with("水利局"))
    await tap(u, "基本满意", card_with("水利局", "工作效能"))
    await tap(u, "不了解", lambda m: "跳过" in m.labels)
    await tap(u, "跳过", lambda m: "提交" in m.labels)
    await tap(u, "提交", lambda m: "确认提交" in m.labels)
    await tap(u, "确认提交", lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""))


async def test_metrics_count_what_a_small_run_did(engine, tmp_path):
    _, token = open_campaign(engine)
    with BotAPIServer(token="4646:metrics", rate_limit=False) as srv, \
            MinpingRun(tmp_path, srv, database_url(engine), mode="webhook") as run:
        await asyncio.to_thread(run.start)
        users = [srv.user(c, language_code="zh") for c in RATERS]
        await asyncio.gather(*(walk(u, token, i) for i, u in enumerate(users)))
        blocker = srv.user(BLOCKER)
        blocker.send("/start")
        await blocker.wait_for_async(None, 8)
        blocker.block()  # a my_chat_member update; then a message to them gets 403
        await asyncio.sleep(0.5)

        # The outbox: two messages to one chat under a strict per-chat limit (the second
        # gets a 429 and goes later), one to the chat that blocked the bot (403).
        srv.rate_limit = RateLimitConfig(per_chat_per_second=0.25, per_chat_burst=1.0)
        with session_scope(engine) as s:
            outbox.enqueue(s, RATERS[0], "notice", "第一条")
            outbox.enqueue(s, RATERS[0], "notice", "第二条")
            outbox.enqueue(s, BLOCKER, "notice", "被拉黑")
        deadline = time.monotonic() + 30
        while True:
            body, samples = await scrape(run.port)
            if value(samples, "minping_outbox_sends_total", outcome="sent") >= 2 \
                    and value(samples, "minping_outbox_backlog") == 0:
                break
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.5)
        taps = srv.stats.get("answerCallbackQuery", 0)
        assert run.term() == 0, run.output

    assert value(samples, "minping_ballots_sealed_total") == 3
    # Every update the server posted was applied once: 3 raters × (/start + opinion), the
    # blocker's /start, their my_chat_member; every button press.
    assert value(samples, "minping_updates_total", kind="message", outcome="applied") == 2 * 3 + 1
    assert value(samples, "minping_updates_total", kind="callback_query", outcome="applied") == taps == 3 * 8
    assert value(samples, "minping_updates_total", kind="my_chat_member", outcome="applied") == 1
    assert value(samples, "minping_updates_parked_total") == 0
    assert value(samples, "minping_steps_total", event="tap", outcome="ok") == taps
    assert value(samples, "minping_steps_total", event="start", outcome="ok") == 4
    assert value(samples, "minping_step_seconds_count", event="tap") == taps
    assert 0 < value(samples, "minping_step_seconds_sum", event="tap") < taps * 2.0
    # The outbox: two sent, at least one 429 on the way, one 403.
    assert value(samples, "minping_outbox_sends_total", outcome="sent") == 2
    assert value(samples, "minping_outbox_sends_total", outcome="rate_limited") >= 1
    assert value(samples, "minping_outbox_sends_total", outcome="blocked") == 1
    assert value(samples, "minping_outbox_messages", status="sent") == 2
    assert value(samples, "minping_outbox_messages", status="unreachable") == 1
    assert value(samples, "minping_outbox_backlog") == 0
    # One process: it holds the scheduler lease and ran every job at least once.
    assert value(samples, "minping_scheduler_lease_held") == 1
    assert value(samples, "minping_scheduler_job_runs_total", job="prune_updates", outcome="ok") >= 1
    assert value(samples, "minping_scheduler_job_runs_total", job="prune_updates", outcome="error") == 0
    assert value(samples, "minping_database_up") == 1 and value(samples, "minping_bot_api_reached") == 1
    assert not any(name == "minping_errors_total" and v for (name, _), v in samples.items())
    # No personal data: no chat id, no opinion, no message text anywhere in the page. A
    # chat id counts as a number of its own (it may well occur among a float's digits).
    for chat_id in [*RATERS, BLOCKER]:
        assert not re.search(rf"(?<![\d.]){chat_id}(?![\d.])", body), chat_id
    for secret in ["意见", "第一条", "被拉黑", token]:
        assert secret not in body
