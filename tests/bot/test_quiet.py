"""Idle is silent: the outbox sender and the scheduler log at INFO only when they did
something (an operator's log must not fill up every 30–60 s of a quiet night)."""

from __future__ import annotations

import asyncio
import logging
import time
import types

from devtools.devserver import BotAPIServer
from bot.scheduler import Scheduler
from bot.sender import Sender
from bot.telegram.aiogram_app import AiogramTransport, make_bot
from storage import outbox
from storage.db import make_engine, migrate, session_scope

TOKEN = "123456:TEST-quiet"


class Minutes:
    """``time`` for the sender, where every reading is a minute after the last: each turn
    of its loop is past the report interval."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        self.offset += 61.0
        return time.monotonic() + self.offset


def info_lines(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name and r.levelno >= logging.INFO]


async def test_the_sender_reports_what_it_sent_and_nothing_while_idle(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="bot.sender")
    monkeypatch.setattr("bot.sender.time", types.SimpleNamespace(monotonic=Minutes().monotonic))
    eng = make_engine(f"sqlite:///{tmp_path / 'quiet.db'}")
    migrate(eng)
    with BotAPIServer(TOKEN) as srv:
        bot = make_bot(srv.token, srv.base_url)
        stop = asyncio.Event()
        sender = Sender(eng, AiogramTransport(bot), poll_interval=0.01)
        task = asyncio.create_task(sender.run(stop))
        await asyncio.sleep(0.5)  # dozens of idle "minutes"
        assert info_lines(caplog, "bot.sender") == []
        srv.user(501)
        with session_scope(eng) as s:
            outbox.enqueue(s, 501, "notice", "hello")
        await srv.user(501).wait_for_async("hello", 10)
        await asyncio.sleep(0.5)  # idle again
        stop.set()
        await asyncio.wait_for(task, 10)
        await bot.session.close()
    lines = info_lines(caplog, "bot.sender")
    # One report of the send (and one at stop), not one per idle minute.
    assert 1 <= len(lines) <= 2 and all("sent 1" in line for line in lines), lines
    eng.dispose()


async def test_a_scheduler_tick_logs_only_when_a_job_did_something(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    eng = make_engine(f"sqlite:///{tmp_path / 'quiet.db'}")
    migrate(eng)
    work = {"n": 0}
    sched = Scheduler(eng, jobs={"reminders": lambda engine, now: work["n"]}, holder="q")
    for _ in range(5):
        await sched._tick()
    assert info_lines(caplog, "bot.scheduler") == []
    work["n"] = 3
    await sched._tick()
    assert info_lines(caplog, "bot.scheduler") == ["scheduler tick: reminders 3"]
    sched.stop()
    eng.dispose()
