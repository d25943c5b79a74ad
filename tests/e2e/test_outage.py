"""A database outage loses nothing and recovery takes seconds (a real ``minping run``).

PostgreSQL becomes unreachable for 10 s (a TCP proxy in front of it drops every
connection and refuses new ones) while 50 raters press a button each; on SQLite another
process holds the write lock for 40 s. Afterwards every press is applied without the
rater doing anything again, a new message is answered within 5 s, nothing is parked.
And a poison update is parked, listed and replayed while its chat goes on.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from devtools.devserver import BotAPIServer
from bot.runtime import BotRuntime
from bot.service import Service
from reports.verify import verify
from storage import parked
from storage.db import session_scope
from storage.models import Conversation, Person
from tests.e2e.conftest import TOKEN
from tests.e2e.rater import T, card_with, enrol, open_campaign, tap
from tests.e2e.test_crash import _campaign
from tests.run_process import MinpingRun, database_url
from tests.tcp_proxy import TcpProxy

RATERS = 50
SCALE = ["满意", "比较满意", "基本满意", "不满意"]


def through(url: str, port: int) -> str:
    """The same database URL, reached through the proxy's port."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)
    netloc = (host[0] + "@" if len(host) == 2 else "") + f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def answer_rest(u) -> None:  # noqa: ANN001
    """From the second question on: answer, skip the opinions, submit."""
    await tap(u, "满意", card_with("交通局", "跳过"))
    await tap(u, "跳过", card_with("水利局", "工作作风"))
    await tap(u, "满意", card_with("水利局", "工作效能"))
    await tap(u, "满意", lambda m: "跳过" in m.labels)
    await tap(u, "跳过", lambda m: "提交" in m.labels)
    await tap(u, "提交", lambda m: "确认提交" in m.labels)
    await tap(u, "确认提交", lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""))


def state_of(engine, chat_id: int) -> dict:  # noqa: ANN001
    with session_scope(engine) as s:
        person = s.exec(select(Person).where(Person.chat_id == chat_id)).one()
        return s.exec(select(Conversation).where(Conversation.person_id == person.id)).one().state


async def presses_during(engine, srv, run, token: str, outage, first_uid: int) -> None:  # noqa: ANN001
    """Raters at their first question press a button while ``outage`` (an async context)
    lasts; afterwards each press must be applied and a probe answered within 5 s."""
    users = [srv.user(first_uid + n, language_code="zh") for n in range(RATERS)]
    await asyncio.gather(*(enrol(u, token) for u in users))
    async with outage() as ended:
        for n, u in enumerate(users):
            u.tap(SCALE[n % 4])
        await asyncio.sleep(0.5)
        assert all(u.last().labels and "工作作风" in u.last().text for u in users)  # nothing half-shown
    probe = srv.user(first_uid + 999, language_code="zh")
    probe.send("/start")
    await probe.wait_for_async("还没有参加", 5.0)
    assert time.monotonic() - ended[0] < 5.0
    try:
        await asyncio.gather(*(u.wait_for_async(card_with("交通局", "工作效能"), 30) for u in users))
    except TimeoutError as exc:
        raise AssertionError(f"a press was not applied; the bot said:\n{run.output}") from exc
    for n, u in enumerate(users):  # the press made during the outage, applied once
        assert state_of(engine, u.id)["answers"]["transport"]["style"] == ["satisfied", "fairly", "basically",
                                                                          "dissatisfied"][n % 4]
    await asyncio.gather(*(answer_rest(u) for u in users))
    with session_scope(engine) as s:
        assert parked.listing(s) == []
        result = verify(s, _campaign(s))
    assert result.ok, (result.chain, result.counts)
    assert srv.pending_updates == 0


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_postgres_away_for_10_seconds(engine, framework, mode, tmp_path):
    _, token = open_campaign(engine)
    with TcpProxy("127.0.0.1", 5432) as proxy, BotAPIServer(token="4444:away", rate_limit=False) as srv, \
            MinpingRun(tmp_path, srv, through(database_url(engine), proxy.port), framework=framework,
                       mode=mode) as run:
        await asyncio.to_thread(run.start)

        class away:
            def __init__(self) -> None:
                self.ended = [0.0]

            async def __aenter__(self):  # noqa: ANN204
                proxy.cut()
                return self.ended

            async def __aexit__(self, *exc):  # noqa: ANN001, ANN204
                await asyncio.sleep(10)
                proxy.restore()
                self.ended[0] = time.monotonic()

        await presses_during(engine, srv, run, token, away, 81_000)
        assert run.term() == 0, run.output
    # Said once that the database went away, once that it is back; no traceback.
    assert run.output.count("database unreachable") == 1, run.output
    assert run.output.count("database reachable again") == 1, run.output
    assert "Traceback" not in run.output, run.output


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("framework", "mode"), [("aiogram", "polling"), ("ptb", "webhook")])
async def test_sqlite_locked_by_another_process_for_40_seconds(engine, framework, mode, tmp_path):
    _, token = open_campaign(engine)
    path = engine.url.database
    with BotAPIServer(token="4445:locked", rate_limit=False) as srv, \
            MinpingRun(tmp_path, srv, database_url(engine), framework=framework, mode=mode) as run:
        await asyncio.to_thread(run.start)

        class locked:
            def __init__(self) -> None:
                self.ended = [0.0]

            async def __aenter__(self):  # noqa: ANN204
                # A CLI command of another process holding the write lock for 40 s.
                self.holder = subprocess.Popen([sys.executable, "-c", (
                    "import sqlite3, sys, time\n"
                    f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
                    "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(40); c.execute('ROLLBACK')")],
                    stdout=subprocess.PIPE, text=True)
                assert self.holder.stdout.readline().strip() == "locked"
                return self.ended

            async def __aexit__(self, *exc):  # noqa: ANN001, ANN204
                await asyncio.to_thread(self.holder.wait, 60)
                self.ended[0] = time.monotonic()

        await presses_during(engine, srv, run, token, locked, 82_000)
        assert run.term() == 0, run.output
    assert "Traceback" not in run.output, run.output


@pytest.mark.postgres
async def test_a_poison_update_is_parked_listed_and_replayed(engine, api_server, framework, loaded, monkeypatch):
    """A rater's stored draft is damaged (bad data: not a passing fault): their tap
    fails, is parked after one try and listed; the chat goes on (/help is answered) and
    other raters are unaffected; once an operator repairs the draft, `minping updates
    --retry` has the running bot apply it."""
    _, token = loaded
    runtime = BotRuntime(Service(engine), framework, TOKEN, api_server.base_url)
    await runtime.start()
    try:
        victim, other = api_server.user(83_001, language_code="zh"), api_server.user(83_002, language_code="zh")
        await enrol(victim, token)
        await enrol(other, token)
        with session_scope(engine) as s:
            person = s.exec(select(Person).where(Person.chat_id == victim.id)).one()
            conv = s.exec(select(Conversation).where(Conversation.person_id == person.id)).one()
            good, conv.state = conv.state, {"broken": True}
            s.add(conv)
        victim.tap("满意")
        for _ in range(100):
            with session_scope(engine) as s:
                rows = parked.listing(s)
            if rows:
                break
            await asyncio.sleep(0.1)
        assert [(r.kind, r.attempts) for r in rows] == [("callback_query", 1)]
        assert "ValidationError" in rows[0].error
        await tap(other, "满意", card_with("交通局", "工作效能"))  # others go on
        victim.send("/help")
        await victim.wait_for_async("/resume", T, new=True)  # and so does the chat itself

        monkeypatch.setenv("DATABASE_URL", database_url(engine))
        from bot.settings import get_settings

        get_settings.cache_clear()
        try:
            listed = CliRunner().invoke(__import__("bot.cli", fromlist=["app"]).app, ["updates"])
            assert listed.exit_code == 0 and "callback_query" in listed.output and "ValidationError" in listed.output
            with session_scope(engine) as s:  # the operator repairs the draft
                conv = s.get(Conversation, conv.id)
                conv.state = good
                s.add(conv)
            retried = CliRunner().invoke(__import__("bot.cli", fromlist=["app"]).app,
                                         ["updates", "--retry", str(rows[0].update_id)])
            assert retried.exit_code == 0, retried.output
        finally:
            get_settings.cache_clear()
        await victim.wait_for_async(card_with("交通局", "工作效能"), 15)  # the parked tap, applied
        with session_scope(engine) as s:
            assert parked.listing(s) == []
    finally:
        await runtime.stop()
