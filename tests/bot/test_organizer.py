"""Organizer chat commands, organizer codes and the scheduled digest job, through the
service and the real database (the e2e test in tests/e2e/test_digest.py goes over HTTP)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.digest_worker import run_worker
from bot.jobs.digests import run_digests
from bot.scheduler import Scheduler
from bot.service import Incoming, Service
from reports import tally
from storage import digest_requests, links, outbox
from storage import tally as store
from storage.db import session_scope
from storage.models import Outbox, Person
from tests.reports.handworked import load_handworked

ORGANIZER = 777  # in the campaign file
NAMES = ("交通局", "水利局", "财政局", "Transport", "Water", "Finance")
# 18:00 Asia/Shanghai = 10:00 UTC
FIRING = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def svc(engine):
    load_handworked(engine)
    return Service(engine, clock=lambda: FIRING)


def cmd(svc, chat_id, command, text="", lang="zh"):
    return svc.handle(Incoming(chat_id, "command", command=command, text=text, language_code=lang))


def texts(reply):
    return "\n".join(m.text for m in reply.messages)


def digests(engine, chat_id=None):
    with session_scope(engine) as s:
        q = select(Outbox).where(Outbox.kind == "digest").order_by(Outbox.id)
        if chat_id is not None:
            q = q.where(Outbox.chat_id == chat_id)
        return list(s.exec(q))


def pending(engine):
    with session_scope(engine) as s:
        return digest_requests.pending(s)


def test_non_organizers_get_not_available(engine, svc):
    for command in ("digest", "status"):
        assert "仅对评议组织者开放" in texts(cmd(svc, 4242, command))
        assert "not available" in texts(cmd(svc, 4243, command, lang="en"))
    assert "仅对评议组织者开放" in texts(cmd(svc, 4242, "digest", "test-2026"))
    assert digests(engine) == []


def test_status_and_digest_of_a_sealed_open_campaign_show_progress_only(engine, svc):
    status = texts(cmd(svc, ORGANIZER, "status"))
    assert "服务对象：尚未抽签（已报名 4 人，计划抽取 10 人）" in status  # no draw yet: no rate against a target
    assert "11" in status and not any(n in status for n in NAMES)
    reply = texts(cmd(svc, ORGANIZER, "digest"))
    assert "正在生成" in reply
    assert digests(engine, ORGANIZER) == []  # the chat step only asked for it
    assert pending(engine) == 1
    assert run_worker(engine) == 0  # drawn by the worker process
    assert pending(engine) == 0
    rows = digests(engine, ORGANIZER)
    assert [r.attachment_kind for r in rows] == [None, "photo"]  # text + the progress chart
    assert "密封评议" in rows[0].text and not any(n in rows[0].text for n in NAMES)
    with session_scope(engine) as s:
        chart = outbox.attachment_data(s, rows[1].id)
    assert rows[1].filename == "progress.png" and chart[:4] == b"\x89PNG"


def test_digest_after_close_carries_results_and_charts(engine, svc):
    with session_scope(engine) as s:
        tally.close_campaign(s, svc.campaign(s, "test-2026"))
    cmd(svc, ORGANIZER, "digest")
    assert run_worker(engine) == 0
    rows = digests(engine, ORGANIZER)
    text = rows[0].text
    assert "1. 水利局  71.40分" in text and "1. 财政局  71.40分" in text and "3. 交通局  49.44分" in text
    assert "所在单位" in text and "不足 2 份" in text  # redistribution is said
    assert {r.filename for r in rows[1:]} == {"ranking-gov.png", "heatmap.png", "distribution.png", "progress.png"}


def test_organizer_code_binds_once(engine, svc):
    with session_scope(engine) as s:
        code = links.issue_codes(s, "test-2026", "organizer", 1)[0].token
    assert "仅对评议组织者开放" in texts(cmd(svc, 5151, "status"))
    bound = svc.handle(Incoming(5151, "start", text=code))
    assert "您已成为「测试评议」的组织者" in texts(bound)
    assert "已经是" in texts(svc.handle(Incoming(5151, "start", text=code)))
    other = svc.handle(Incoming(5252, "start", text=code, language_code="en"))
    assert "used already" in texts(other)
    assert "服务对象" in texts(cmd(svc, 5151, "status"))
    assert "not available" in texts(cmd(svc, 5252, "status", lang="en"))
    with session_scope(engine) as s:
        c = svc.campaign(s, "test-2026")
        assert store.organizers(s, c) == [ORGANIZER, 5151]


def test_the_job_sends_one_digest_per_organizer_per_firing_across_restarts(engine, svc):
    with session_scope(engine) as s:
        store.bind_organizer(s, "test-2026", 5151)
    first = Scheduler(engine, clock=lambda: FIRING.replace(minute=1), jobs={"digest": run_digests}, holder="a")
    assert first.tick() == {"digest": 2}
    assert first.tick() == {"digest": 0}
    first.stop()  # "restart": a new process, same firing, a few minutes later
    second = Scheduler(engine, clock=lambda: FIRING.replace(minute=20), jobs={"digest": run_digests}, holder="b")
    assert second.tick() == {"digest": 0}
    assert digests(engine) == [] and pending(engine) == 2  # asked for; the worker process draws
    assert run_worker(engine) == 0
    texts_ = [r for r in digests(engine) if r.attachment_sha256 is None]
    assert sorted(r.chat_id for r in texts_) == [ORGANIZER, 5151]
    assert all(r.dedupe_key.startswith("digest:test-2026:") for r in digests(engine))
    # the next day's firing sends again
    assert run_digests(engine, FIRING.replace(day=2, second=5)) == 2


def test_a_firing_missed_beyond_the_grace_period_is_skipped_and_logged(engine, svc, caplog):
    from storage import schedule

    schedule._reported.clear()  # logged once per process: the other backend's run logged it already
    with caplog.at_level(logging.INFO, logger="storage.schedule"):
        assert run_digests(engine, FIRING.replace(hour=12)) == 0  # two hours late
    assert "missed" in caplog.text
    assert digests(engine) == []
    assert run_digests(engine, FIRING.replace(minute=59)) == 1  # within the hour: runs once


def test_unreachable_or_stopped_organizers_are_not_written_to(engine, svc):
    with session_scope(engine) as s:
        s.add(Person(chat_id=ORGANIZER, status="unreachable"))
    assert run_digests(engine, FIRING) == 0
    assert digests(engine) == []


def test_a_mistyped_campaign_id_is_named_not_refused(engine, svc):
    """Issue 12: an organizer's typo gets "no such campaign" and their campaigns; anyone
    else still learns nothing about which campaigns exist."""
    for command in ("status", "digest", "rectification"):
        typo = texts(cmd(svc, ORGANIZER, command, "test-2062"))
        assert "没有名为「test-2062」的评议活动" in typo and "test-2026" in typo, command
        assert "仅对评议组织者开放" not in typo
        stranger = texts(cmd(svc, 4242, command, "test-2062"))
        assert "test-2026" not in stranger and "test-2062" not in stranger, command
    assert digests(engine) == []


def test_no_shell_command_in_what_organizers_read_in_chat(engine, svc):
    for command in ("status", "digest", "rectification"):
        cmd(svc, ORGANIZER, command)
    assert run_worker(engine) == 0
    with session_scope(engine) as s:
        sent = [o.text for o in s.exec(select(Outbox))]
    replies = [texts(cmd(svc, ORGANIZER, c)) for c in ("status", "rectification")]
    for text in sent + replies:
        assert "minping " not in text, text


def test_a_digest_request_survives_a_crashed_worker_and_is_queued_once(engine, svc):
    """A worker that died after claiming (its claim expires) or a request done twice
    (two workers, a crash between commit and exit) still gives exactly one digest."""
    from datetime import timedelta

    cmd(svc, ORGANIZER, "digest")
    with session_scope(engine) as s:
        claimed = digest_requests.claim(s)  # a worker claims it … and dies
    assert len(claimed) == 1 and claimed[0].attempts == 1
    assert run_worker(engine) == 0  # the claim is still live: nobody draws it
    assert digests(engine) == [] and pending(engine) == 1
    with session_scope(engine) as s:  # the lease runs out
        later = datetime.now(UTC) + digest_requests.LEASE + timedelta(seconds=1)
        assert [r.id for r in digest_requests.claim(s, later)] == [claimed[0].id]
        s.execute(digest_requests.update(digest_requests.DigestRequest).values(claimed_until=None))
    assert run_worker(engine) == 0
    rows = digests(engine, ORGANIZER)
    assert [r.attachment_kind for r in rows] == [None, "photo"] and pending(engine) == 0
    # the same request done again (re-inserted as if its delete had not committed): no second digest
    with session_scope(engine) as s:
        assert digest_requests.request(s, "test-2026", ORGANIZER, "zh", FIRING, claimed[0].dedupe_key)
    assert run_worker(engine) == 0
    assert len(digests(engine, ORGANIZER)) == 2 and pending(engine) == 0


def test_the_worker_without_its_database_setting_says_so():
    import subprocess
    import sys

    from bot.digest_worker import worker_command

    out = subprocess.run(worker_command(), env={"PATH": "/usr/bin"}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "MINPING_DIGEST_DATABASE_URL is not set" in out.stderr
    assert sys.executable in worker_command()


def test_organizers_are_telegram_chats_not_the_same_address_on_another_channel(engine, svc):
    """The campaign file's organizer 777 is a Telegram chat: address 777 on another channel
    gets nothing, and an organizer code redeemed there binds nobody (digests would go to
    Telegram chat 777)."""
    web = Incoming(ORGANIZER, "command", command="status", channel="web")
    assert "仅对评议组织者开放" in texts(svc.handle(web))
    assert "服务对象" in texts(cmd(svc, ORGANIZER, "status"))  # the Telegram organizer still is one
    with session_scope(engine) as s:
        code = links.issue_codes(s, "test-2026", "organizer", 1)[0].token
    assert "仅对评议组织者开放" in texts(svc.handle(Incoming(6161, "start", text=code, channel="web")))
    with session_scope(engine) as s:
        c = svc.campaign(s, "test-2026")
        assert store.organizers(s, c) == [ORGANIZER]
        assert links.resolve(s, code).used_at is None  # the code is still usable on Telegram
    assert "您已成为「测试评议」的组织者" in texts(svc.handle(Incoming(6161, "start", text=code)))
