"""A long-running bot frees what each call used at once, not at the cycle collector's
next full pass: garbage that waits for it piles up under load, and the memory it held
stays with the process (bench/memory.py: a PTB bot's RSS at 1,000 conversations fell
~5 MB once this garbage was freed at once). Each test counts what is left with the collector off."""

from __future__ import annotations

import contextlib
import gc
from datetime import timedelta

from devtools.devserver import BotAPIServer
from bot.service import Service
from bot.telegram.ptb_app import make_application, make_fetch
from storage import outbox
from storage.db import make_engine, session_scope
from storage.models import utcnow


@contextlib.contextmanager
def collector_off():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def alive(module: str, name: str) -> int:
    return sum(1 for o in gc.get_objects() if type(o).__name__ == name and type(o).__module__.startswith(module))


async def test_the_ptb_bot_frees_each_bot_api_answer_at_once(tmp_path):
    with BotAPIServer("123:garbage", rate_limit=False) as srv:
        user = srv.user(501)
        app = make_application(Service(make_engine(f"sqlite:///{tmp_path / 'unused.db'}")), srv.token, srv.base_url)
        await app.initialize()
        try:
            transport, fetch = app.bot_data["transport"], make_fetch(app)
            with collector_off():
                before = alive("httpx", "Response")
                for i in range(30):
                    message_id = await transport.send_message(501, f"card {i}")
                    await transport.edit_message(501, message_id, f"card {i}, answered")
                await fetch(None, 0)
                left = alive("httpx", "Response") - before
        finally:
            await app.shutdown()
        assert [m.text for m in user.messages()][-1] == "card 29, answered"
    assert left == 0, f"{left} of 61 Bot API answers wait for the cycle collector"


def test_the_senders_polls_leave_no_table_copies_behind(engine):
    """Each poll of the outbox asks which chats' queues are free; it once built a fresh
    alias of the outbox table (a copy of its columns) per poll."""
    with session_scope(engine) as s:
        outbox.enqueue(s, 601, "notice", "一")
        outbox.enqueue(s, 601, "notice", "二")  # behind the first: not claimable yet
        outbox.enqueue(s, 602, "notice", "三", not_before=utcnow() + timedelta(hours=1))  # due later
    with collector_off():
        before = alive("sqlalchemy", "AliasedClass")
        for _ in range(20):
            with session_scope(engine) as s:
                claimed = outbox.claim(s, "w", 10)
                assert [r.text for r in claimed] in (["一"], [])
                assert outbox.outstanding(s)[0] == 1  # chat 602's, once due
        left = alive("sqlalchemy", "AliasedClass") - before
    assert left == 0
