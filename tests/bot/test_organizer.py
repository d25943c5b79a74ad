"""Organizer chat commands, organizer codes and the scheduled digest job, through the
service and the real database (the e2e test in tests/e2e/test_digest.py goes over HTTP)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.jobs.digests import run_digests
from bot.scheduler import Scheduler
from bot.service import Incoming, Service
from reports import tally
from storage import links
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


def test_non_organizers_get_not_available(engine, svc):
    for command in ("digest", "status"):
        assert "仅对评议组织者开放" in texts(cmd(svc, 4242, command))
        assert "not available" in texts(cmd(svc, 4243, command, lang="en"))
    assert "仅对评议组织者开放" in texts(cmd(svc, 4242, "digest", "test-2026"))
    assert digests(engine) == []


def test_status_and_digest_of_a_sealed_open_campaign_show_progress_only(engine, svc):
    status = texts(cmd(svc, ORGANIZER, "status"))
    assert "服务对象：4/10（40%）" in status.replace(" (", "（").replace(")", "）") or "服务对象：4/10" in status
    assert "11" in status and not any(n in status for n in NAMES)
    reply = texts(cmd(svc, ORGANIZER, "digest"))
    assert "马上发送" in reply
    rows = digests(engine, ORGANIZER)
    assert [r.attachment_kind for r in rows] == [None, "photo"]  # text + the progress chart
    assert "密封评议" in rows[0].text and not any(n in rows[0].text for n in NAMES)
    assert rows[1].filename == "progress.png" and rows[1].attachment[:4] == b"\x89PNG"


def test_digest_after_close_carries_results_and_charts(engine, svc):
    with session_scope(engine) as s:
        tally.close_campaign(s, svc.campaign(s, "test-2026"))
    cmd(svc, ORGANIZER, "digest")
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
    texts_ = [r for r in digests(engine) if r.attachment is None]
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
