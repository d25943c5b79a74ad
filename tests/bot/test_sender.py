"""The outbox sender over the local Bot API server with the real aiogram (and PTB) client:
what the people in the chats receive, and what the server saw."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from devtools.devserver import BotAPIServer, RateLimitConfig
from bot.sender import Sender
from bot.telegram.aiogram_app import AiogramTransport, make_bot
from bot.telegram.transport import RetryAfter, Transient
from flows.messages import Button
from storage import outbox, people
from storage.db import make_engine, migrate, session_scope
from storage.models import Outbox, Person, utcnow

TOKEN = "123456:TEST-sender"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000308060000009db47f"
    "6e0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
TELEGRAM = RateLimitConfig()  # 30/s overall, 1/s per chat (burst 2)
STRICT = RateLimitConfig(per_chat_per_second=1.0, per_chat_burst=1.0)


@pytest.fixture
def db(tmp_path):
    """SQLite; the first test also runs on PostgreSQL (the shared ``engine`` fixture)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'sender.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def sends(outcome: str) -> float:
    from bot.metrics import REGISTRY

    return REGISTRY.get_sample_value("minping_outbox_sends_total", {"outcome": outcome}) or 0.0


def server(limits: RateLimitConfig = TELEGRAM) -> BotAPIServer:
    return BotAPIServer(TOKEN, rate_limit=limits)


class aiogram_transport:  # noqa: N801 — an async context manager
    def __init__(self, srv: BotAPIServer) -> None:
        self.bot = make_bot(srv.token, srv.base_url)

    async def __aenter__(self) -> AiogramTransport:
        return AiogramTransport(self.bot)

    async def __aexit__(self, *exc) -> None:
        await self.bot.session.close()


def enqueue(engine, srv, per_chat: dict[int, int], **kw) -> dict[int, list[int]]:
    """Enqueue messages round-robin over the chats; texts are '<chat>/<n>'."""
    ids: dict[int, list[int]] = {c: [] for c in per_chat}
    for c in per_chat:
        srv.user(c)
    with session_scope(engine) as s:
        for n in range(max(per_chat.values())):
            for c, count in per_chat.items():
                if n < count:
                    ids[c].append(outbox.enqueue(s, c, "notice", f"<b>{c}</b>/{n}", **kw).id)
    return ids


def received(srv, chat_id: int) -> list[str]:
    return [m.text for m in srv.user(chat_id).messages()]


def statuses(engine) -> Counter:
    with session_scope(engine) as s:
        return Counter(outbox.counts(s))


def sends_to(srv, chat_id: int):
    return [c for c in srv.calls if c.method in ("sendMessage", "sendPhoto", "sendDocument")
            and str(c.params.get("chat_id")) == str(chat_id)]


@pytest.mark.postgres
async def test_twenty_messages_to_five_chats_arrive_once_each_in_order(engine):
    chats = {101 + i: 4 for i in range(5)}
    with server() as srv:
        enqueue(engine, srv, chats, buttons=[[Button("打开", "open")]])
        async with aiogram_transport(srv) as transport:
            stats = await asyncio.wait_for(Sender(engine, transport, poll_interval=0.1).drain(), 20)
        for c in chats:
            assert received(srv, c) == [f"{c}/{n}" for n in range(4)]
            assert srv.user(c).messages()[0].buttons == [[("打开", "open")]]
        assert srv.rate_limited_count == 0  # the sender kept within the limits by itself
        # one a second per chat
        for c in chats:
            times = [call.at for call in sends_to(srv, c)]
            assert all(b - a >= 0.9 for a, b in zip(times, times[1:]))
    assert stats["sent"] == 20
    assert statuses(engine)["sent"] == 20


async def test_a_blocked_chat_becomes_unreachable_and_the_others_still_arrive(db):
    chats = {201: 3, 202: 3, 203: 3}
    with session_scope(db) as s:
        for c in chats:
            people.get_or_create_person(s, c)
    with server() as srv:
        ids = enqueue(db, srv, chats)
        srv.user(202).block()
        async with aiogram_transport(srv) as transport:
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 20)
        assert received(srv, 201) == ["201/0", "201/1", "201/2"]
        assert received(srv, 203) == ["203/0", "203/1", "203/2"]
        assert received(srv, 202) == []
        assert len(sends_to(srv, 202)) == 1  # one 403, then the chat is left alone
    with session_scope(db) as s:
        assert {r.status for r in s.exec(select(Outbox).where(Outbox.id.in_(ids[202])))} == {"unreachable"}
        assert {p.chat_id: p.status for p in s.exec(select(Person))} == {
            201: "active", 202: "unreachable", 203: "active"}
    assert statuses(db)["sent"] == 6


async def test_429_retry_after_is_obeyed(db):
    chats = {301: 3, 302: 3, 303: 3}
    with server(STRICT) as srv:
        enqueue(db, srv, chats)
        async with aiogram_transport(srv) as transport:
            sender = Sender(db, transport, per_chat_interval=0.2, poll_interval=0.1)  # too fast
            stats = await asyncio.wait_for(sender.drain(), 25)
        for c in chats:
            assert received(srv, c) == [f"{c}/{n}" for n in range(3)]
        assert srv.rate_limited_count > 0 and stats["rate_limited"] == srv.rate_limited_count
        checked = 0
        for c in chats:
            calls = sends_to(srv, c)
            for i, call in enumerate(calls[:-1]):
                if call.error_code == 429:
                    retry_after = int(re.search(r"retry after (\d+)", call.description).group(1))
                    assert calls[i + 1].at - call.at >= retry_after - 0.01, (c, i)
                    checked += 1
        assert checked == srv.rate_limited_count
    counts = statuses(db)
    assert counts["sent"] == 9 and counts["pending"] == 0


async def test_a_restarted_sender_delivers_everything_and_repeats_only_what_was_in_flight(db):
    chats = {401 + i: 2 for i in range(5)}
    with server() as srv:
        ids = enqueue(db, srv, chats)
        long_ago = utcnow() - timedelta(minutes=10)
        with session_scope(db) as s:
            claimed = [r.id for r in outbox.claim(s, "crashed", 100, now=utcnow())]
            assert claimed == [ids[c][0] for c in chats]  # the head of every chat
            in_flight_unsent, in_flight_sent = ids[401][0], ids[402][0]
            outbox.mark_sending(s, in_flight_unsent, "crashed", now=long_ago)  # died before the call
            outbox.mark_sending(s, in_flight_sent, "crashed", now=long_ago)  # died after the call
        async with aiogram_transport(srv) as transport:
            await transport.send_message(402, "<b>402</b>/0")  # Telegram got it; the outcome was never recorded
            await asyncio.sleep(1.0)  # the crashed sender's last send to 402 was just now
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 20)
        for c in chats:
            expected = [f"{c}/0", f"{c}/1"]
            if c == 402:
                expected = ["402/0"] + expected  # the one at-least-once corner
            assert received(srv, c) == expected
    assert statuses(db)["sent"] == 10


class DiesAfter:
    """The real transport; the sending task is killed right after the n-th message went out,
    before its outcome is recorded (the worst moment), however loaded the machine."""

    def __init__(self, inner, n: int) -> None:
        self.inner, self.left, self.task = inner, n, None

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def send_message(self, *args, **kw):
        result = await self.inner.send_message(*args, **kw)
        self.left -= 1
        if self.left == 0:
            self.task.cancel()
        return result


async def test_a_sender_killed_mid_run_loses_nothing(db):
    chats = {451 + i: 5 for i in range(4)}
    with server() as srv:
        enqueue(db, srv, chats)
        async with aiogram_transport(srv) as transport:
            dying = DiesAfter(transport, 5)
            first = dying.task = asyncio.create_task(Sender(db, dying, poll_interval=0.1).drain())
            with pytest.raises(asyncio.CancelledError):
                await first
            assert sum(len(received(srv, c)) for c in chats) < 20  # it died mid-run
            with session_scope(db) as s:
                in_flight = {r.chat_id for r in s.exec(select(Outbox).where(Outbox.status == "sending"))}
            await asyncio.sleep(1.0)
            second = Sender(db, transport, poll_interval=0.1, lease_seconds=0)
            await asyncio.wait_for(second.drain(), 20)
        for c in chats:
            got = received(srv, c)
            assert set(got) == {f"{c}/{n}" for n in range(5)}  # nothing lost
            if c not in in_flight:
                assert got == [f"{c}/{n}" for n in range(5)]  # nothing twice, in order
            else:
                assert len(got) <= 6
    assert statuses(db)["sent"] == 20


async def test_attachments_arrive_as_photo_and_document(db):
    long_text = "<b>本周</b>" + "结果" * 600
    with server() as srv:
        srv.user(501)
        srv.user(502)
        with session_scope(db) as s:
            outbox.enqueue(s, 501, "digest", "<b>本周结果</b>", attachment=PNG, filename="week.png")
            outbox.enqueue(s, 502, "digest", long_text, attachment=PNG, filename="week.png",
                           buttons=[[Button("详情", "more")]])
            outbox.enqueue(s, 502, "feedback", "表格", attachment=b"a,b\n1,2\n", filename="r.csv",
                           attachment_kind="document")
        async with aiogram_transport(srv) as transport:
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 20)
        [photo] = srv.user(501).messages()
        assert photo.kind == "photo" and photo.caption == "本周结果" and photo.photo is not None
        first, second, doc = srv.user(502).messages()
        assert first.kind == "photo" and not first.caption  # too long for a caption …
        assert second.kind == "text" and second.text.startswith("本周结果结果")  # … so it follows
        assert second.buttons == [[("详情", "more")]]
        assert doc.kind == "document" and doc.document.filename == "r.csv" and doc.caption == "表格"
        assert srv.rate_limited_count == 0
    assert statuses(db)["sent"] == 3


async def test_a_picture_whose_bytes_are_gone_fails_with_a_reason_and_the_rest_arrive(db):
    """Someone deleted an attachment by hand: its row fails saying why, nothing is sent
    without its picture, and the chat's next message still goes out."""
    from sqlalchemy import delete

    from storage.models import Attachment, Outbox

    with server() as srv:
        srv.user(511)
        with session_scope(db) as s:
            gone = outbox.enqueue(s, 511, "digest", "图表", attachment=PNG, filename="c.png").id
            outbox.enqueue(s, 511, "notice", "下一条")
        with session_scope(db) as s:
            s.execute(delete(Attachment))
        async with aiogram_transport(srv) as transport:
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 20)
        assert [m.text for m in srv.user(511).messages()] == ["下一条"]
    with session_scope(db) as s:
        row = s.get(Outbox, gone)
        assert (row.status, row.error) == ("failed", "its attachment is missing")
    assert statuses(db)["sent"] == 1


async def test_bad_requests_fail_and_transient_errors_are_retried(db):
    class Flaky:
        """The real transport, but the first send to chat 602 hits a network error."""

        channel = "telegram"

        def __init__(self, inner) -> None:
            self.inner = inner
            self.failures = {602: 1, 603: 99}
            self.flood = {604: 1}

        async def send_message(self, chat_id, text, buttons=()):
            if self.failures.get(chat_id, 0) > 0:
                self.failures[chat_id] -= 1
                raise Transient("connection reset")
            if self.flood.get(chat_id, 0) > 0:
                self.flood[chat_id] -= 1
                raise RetryAfter(1)
            return await self.inner.send_message(chat_id, text, buttons)

        async def send_photo(self, *args):
            return await self.inner.send_photo(*args)

    with server() as srv:
        for c in (601, 602, 603, 604):
            srv.user(c)
        with session_scope(db) as s:
            # a photo, then its long text: the text hits a 429 and only the text is retried
            outbox.enqueue(s, 604, "digest", "长" * 2000, attachment=PNG, filename="c.png")
            bad = outbox.enqueue(s, 601, "notice", "<b>unclosed").id
            outbox.enqueue(s, 601, "notice", "after the bad one")
            outbox.enqueue(s, 602, "notice", "second try")
            hopeless = outbox.enqueue(s, 603, "notice", "never").id
        before = {k: sends(k) for k in ("sent", "retry", "failed", "rate_limited")}
        async with aiogram_transport(srv) as transport:
            sender = Sender(db, Flaky(transport), max_attempts=2, poll_interval=0.1)
            stats = await asyncio.wait_for(sender.drain(), 20)
        # /metrics counts the same outcomes (bot/metrics.py)
        assert {k: sends(k) - v for k, v in before.items()} == {"sent": 3, "retry": 2, "failed": 2, "rate_limited": 1}
        assert received(srv, 601) == ["after the bad one"]
        assert received(srv, 602) == ["second try"]
        assert received(srv, 603) == []
        assert [m.kind for m in srv.user(604).messages()] == ["photo", "text"]  # nothing twice
    with session_scope(db) as s:
        b = s.get(Outbox, bad)
        assert b.status == "failed" and "can't parse entities" in b.error
        h = s.get(Outbox, hopeless)
        assert (h.status, h.attempts, h.error) == ("failed", 2, "connection reset")
    assert stats["retried"] == 2 and stats["failed"] == 2 and stats["sent"] == 3
    assert stats["rate_limited"] == 1


async def test_run_sends_what_arrives_until_stopped(db):
    with server() as srv:
        srv.user(701)
        async with aiogram_transport(srv) as transport:
            stop = asyncio.Event()
            task = asyncio.create_task(Sender(db, transport, poll_interval=0.1).run(stop))
            await asyncio.sleep(0.2)
            with session_scope(db) as s:
                outbox.enqueue(s, 701, "reminder", "提醒")
            await srv.user(701).wait_for_async("提醒", timeout=5)
            stop.set()
            await asyncio.wait_for(task, 5)
        assert received(srv, 701) == ["提醒"]


async def test_the_ptb_transport_delivers_too(db):
    from telegram import Bot

    from bot.telegram.ptb_app import PTBTransport

    chats = {801: 3, 802: 3}
    with server() as srv:
        enqueue(db, srv, chats)
        with session_scope(db) as s:
            outbox.enqueue(s, 801, "digest", "图表", attachment=PNG, filename="c.png")
        bot = Bot(srv.token, base_url=srv.base_url + "/bot")
        await bot.initialize()
        try:
            await asyncio.wait_for(Sender(db, PTBTransport(bot), poll_interval=0.1).drain(), 20)
        finally:
            await bot.shutdown()
        assert received(srv, 802) == ["802/0", "802/1", "802/2"]
        msgs = srv.user(801).messages()
        assert [m.text for m in msgs] == ["801/0", "801/1", "801/2", "图表"]
        assert msgs[-1].kind == "photo"
        assert srv.rate_limited_count == 0
    assert statuses(db)["sent"] == 7


def uploads_of(srv, method: str) -> list[dict]:
    """The calls of ``method`` that carried the file's bytes (a multipart upload)."""
    return [c.params for c in srv.calls_of(method)
            if c.ok and any(str(v).startswith("<file") for v in c.params.values())]


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_a_chart_for_many_organizers_is_uploaded_once(db, framework):
    """A digest's chart is the same for every organizer: the first send uploads it, the
    others send Telegram's file id; each organizer still gets the picture. A file id
    Telegram has forgotten is uploaded again, and nobody misses the chart."""
    from telegram import Bot

    from bot.telegram.ptb_app import PTBTransport

    chats = [901, 902, 903, 904]
    other = PNG[:-12] + bytes(12)  # other bytes: another file
    with server() as srv:
        for c in chats:
            srv.user(c)
        with session_scope(db) as s:
            for c in chats:
                outbox.enqueue(s, c, "digest", "图表", attachment=PNG, filename="c.png")
                outbox.enqueue(s, c, "feedback", "表格", attachment=b"a,b\n1,2\n", filename="r.csv",
                               attachment_kind="document")
            outbox.enqueue(s, 901, "digest", "另一张", attachment=other, filename="d.png")
            outbox.enqueue(s, 902, "feedback", "同样的内容", attachment=b"a,b\n1,2\n", filename="other.csv",
                           attachment_kind="document")  # same bytes, another name: its own upload
        if framework == "ptb":
            bot = Bot(srv.token, base_url=srv.base_url + "/bot")
            await bot.initialize()
            transport = PTBTransport(bot)
        else:
            bot = make_bot(srv.token, srv.base_url)
            transport = AiogramTransport(bot)
        try:
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 30)
            assert len(srv.calls_of("sendPhoto")) == 5 and len(srv.calls_of("sendDocument")) == 5
            assert len(uploads_of(srv, "sendPhoto")) == 2  # the chart once, the other picture once
            assert len(uploads_of(srv, "sendDocument")) == 2
            [renamed] = [m for m in srv.user(902).messages() if m.caption == "同样的内容"]
            assert renamed.document.filename == "other.csv"
            for c in chats:
                photo, doc = [m for m in srv.user(c).messages() if m.kind in ("photo", "document")][:2]
                assert srv.file_bytes(photo.photo.file_id) == PNG and photo.caption == "图表"
                assert srv.file_bytes(doc.document.file_id) == b"a,b\n1,2\n" and doc.caption == "表格"
            # A chat Telegram does not know: that send fails, the file id stays good.
            srv.user(906)
            with session_scope(db) as s:
                outbox.enqueue(s, 999_999, "digest", "图表", attachment=PNG, filename="c.png")
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 30)
            with session_scope(db) as s:
                outbox.enqueue(s, 906, "digest", "图表", attachment=PNG, filename="c.png")
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 30)
            [later] = srv.user(906).messages()
            assert later.kind == "photo" and srv.file_bytes(later.photo.file_id) == PNG
            assert len(uploads_of(srv, "sendPhoto")) == 2 and statuses(db)["failed"] == 1
            # Telegram no longer knows the chart's file id: the next organizer still gets it.
            with srv.state.lock:
                srv.state.files.pop(srv.user(901).messages()[0].photo.file_id)
            srv.user(905)
            with session_scope(db) as s:
                outbox.enqueue(s, 905, "digest", "图表", attachment=PNG, filename="c.png")
            await asyncio.wait_for(Sender(db, transport, poll_interval=0.1).drain(), 30)
            [late] = srv.user(905).messages()
            assert late.kind == "photo" and srv.file_bytes(late.photo.file_id) == PNG
            assert len(uploads_of(srv, "sendPhoto")) == 3
        finally:
            await (bot.shutdown() if framework == "ptb" else bot.session.close())
    assert statuses(db)["sent"] == 12
