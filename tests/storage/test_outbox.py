"""The outbox table: transactional enqueue, dedupe, exclusive claims, crash recovery."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, select

from flows.messages import Button
from storage import outbox, people
from storage.db import session_scope
from storage.models import Attachment, Outbox, Person, utcnow

pytestmark = pytest.mark.postgres

W1, W2 = "sender-1", "sender-2"


def _enqueue(engine, n, chats=None, **kw):
    chats = chats or n
    kw.setdefault("not_before", utcnow() - timedelta(hours=1))
    with session_scope(engine) as s:
        return [outbox.enqueue(s, 1000 + i % chats, "notice", f"message {i}", **kw).id for i in range(n)]


def _while_open(engine, mine, theirs):  # noqa: ANN001, ANN202
    """``mine(session)`` in a transaction held open while ``theirs(session)`` begins its own
    on another thread and has to wait for it (SQLite: the write lock; PostgreSQL: a key or
    row). Both results; the other thread's error fails the test."""
    other: dict[str, object] = {}

    def run() -> None:
        try:
            with session_scope(engine) as s:
                other["result"] = theirs(s)
        except BaseException as exc:  # noqa: BLE001
            other["error"] = exc

    with session_scope(engine) as s:
        result = mine(s)
        t = threading.Thread(target=run)
        t.start()
        t.join(0.5)  # it reaches the lock we hold
    t.join(30)
    assert "error" not in other, other.get("error")
    return result, other["result"]


def _statuses(engine):
    with session_scope(engine) as s:
        return {r.id: r.status for r in s.exec(select(Outbox))}


def test_a_rolled_back_change_leaves_no_message(engine):
    with pytest.raises(RuntimeError):
        with session_scope(engine) as s:
            people.get_or_create_person(s, 42)
            outbox.enqueue(s, 42, "invitation", "<b>请参加</b>", buttons=[[Button("开始", "go")]])
            raise RuntimeError("the causing change fails")
    with session_scope(engine) as s:
        assert s.exec(select(Outbox)).all() == []
        assert outbox.counts(s)["pending"] == 0


def test_a_committed_change_leaves_its_message_pending(engine):
    with session_scope(engine) as s:
        row = outbox.enqueue(s, 42, "invitation", "<b>请参加</b>", buttons=[[Button("开始", "go")], [("稍后", "later")]])
    with session_scope(engine) as s:
        stored = s.get(Outbox, row.id)
        assert stored.status == "pending" and stored.attempts == 0
        assert stored.buttons == [[["开始", "go"]], [["稍后", "later"]]]
        assert outbox.counts(s) == {"pending": 1, "claimed": 0, "sending": 0, "sent": 0, "failed": 0,
                                    "unreachable": 0}


def test_the_same_dedupe_key_enqueues_once(engine):
    with session_scope(engine) as s:
        first = outbox.enqueue(s, 7, "reminder", "reminder 1", dedupe_key="remind:c1:7:1")
        again = outbox.enqueue(s, 7, "reminder", "reminder 1", dedupe_key="remind:c1:7:1")
        other = outbox.enqueue(s, 7, "reminder", "reminder 2", dedupe_key="remind:c1:7:2")
    assert first is not None and again is None and other is not None
    with session_scope(engine) as s:  # in a later transaction too
        assert outbox.enqueue(s, 7, "reminder", "reminder 1", dedupe_key="remind:c1:7:1") is None
        assert len(s.exec(select(Outbox)).all()) == 2


def test_concurrent_enqueues_of_one_key_create_one_row(engine):
    """Two transactions enqueue the same key at once: the second one's check cannot see the
    first's uncommitted row (PostgreSQL), so the unique constraint decides, inside a
    savepoint: the second enqueue returns None and its transaction's other changes commit."""
    def second(s):  # noqa: ANN001, ANN202
        people.get_or_create_person(s, 8)
        return outbox.enqueue(s, 7, "digest", "digest", dedupe_key="digest:w1")

    first, row = _while_open(engine, lambda s: outbox.enqueue(s, 7, "digest", "digest", dedupe_key="digest:w1"),
                             second)
    assert first is not None and row is None
    with session_scope(engine) as s:
        assert people.find_person(s, 8) is not None
        assert len(s.exec(select(Outbox)).all()) == 1


def test_claim_takes_due_rows_once_and_only_the_head_of_each_chat(engine):
    ids = _enqueue(engine, 6, chats=3)  # chat 1000: ids[0], ids[3]; 1001: ids[1], ids[4]; …
    with session_scope(engine) as s:
        later = outbox.enqueue(s, 2000, "notice", "later", not_before=utcnow() + timedelta(hours=1))
    with session_scope(engine) as s:
        first = outbox.claim(s, W1, 100)
    assert [r.id for r in first] == ids[:3]
    assert all(r.status == "claimed" and r.claimed_by == W1 for r in first)
    with session_scope(engine) as s:
        assert outbox.claim(s, W2, 100) == []  # the second messages wait for the first
    with session_scope(engine) as s:
        assert outbox.mark_sending(s, ids[0], W1)
        outbox.mark_sent(s, ids[0])
    with session_scope(engine) as s:
        assert [r.id for r in outbox.claim(s, W2, 100)] == [ids[3]]
    assert _statuses(engine)[later.id] == "pending"  # not due yet


def test_a_message_waiting_to_be_retried_holds_back_its_chat_but_no_other(engine):
    ids = _enqueue(engine, 4, chats=2)
    with session_scope(engine) as s:
        outbox.claim(s, W1, 100)
        outbox.mark_sending(s, ids[0], W1)
        outbox.retry_later(s, ids[0], utcnow() + timedelta(seconds=30), "429", count_attempt=False)
        outbox.mark_sending(s, ids[1], W1)
        outbox.mark_sent(s, ids[1])
    with session_scope(engine) as s:
        assert [r.id for r in outbox.claim(s, W1, 100)] == [ids[3]]
        n, due = outbox.outstanding(s)  # ids[0], and ids[2] behind it
        assert n == 2 and due > utcnow() + timedelta(seconds=20)
    with session_scope(engine) as s:
        assert [r.id for r in outbox.claim(s, W1, 100, now=utcnow() + timedelta(seconds=31))] == [ids[0]]
        assert s.get(Outbox, ids[0]).attempts == 0


def test_two_workers_never_claim_the_same_row(engine):
    ids = _enqueue(engine, 10)
    with session_scope(engine) as s:
        a = {r.id for r in outbox.claim(s, W1, 4)}
    with session_scope(engine) as s:
        b = {r.id for r in outbox.claim(s, W2, 100)}
    assert len(a) == 4 and a.isdisjoint(b) and a | b == set(ids)


def test_concurrent_claims_share_the_rows_out(engine):
    ids = _enqueue(engine, 200, chats=200)
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        mine: list[int] = []
        try:
            while True:
                with session_scope(engine) as s:
                    rows = outbox.claim(s, name, 7)
                if not rows:
                    break
                mine += [r.id for r in rows]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        got[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    every = [i for mine in got.values() for i in mine]
    assert sorted(every) == sorted(ids)  # each row claimed exactly once


def test_claims_in_two_open_transactions_never_overlap(engine):
    """PostgreSQL: the second claim skips the rows the first (still open) one locked.
    SQLite: the second claim waits for the first transaction's write lock."""
    ids = _enqueue(engine, 10)
    b: set[int] = set()
    with Session(engine, expire_on_commit=False) as s1:
        a = {r.id for r in outbox.claim(s1, W1, 6)}  # uncommitted, rows locked

        def second() -> None:
            with session_scope(engine) as s2:
                b.update(r.id for r in outbox.claim(s2, W2, 100))

        t = threading.Thread(target=second)
        t.start()
        t.join(1.0)
        if engine.dialect.name == "postgresql":
            assert not t.is_alive()  # SKIP LOCKED: no waiting
            assert b == set(ids) - a
        s1.commit()
    t.join(30)
    assert len(a) == 6 and a.isdisjoint(b) and a | b == set(ids)


def test_mark_sending_refuses_a_row_taken_back(engine):
    [rid] = _enqueue(engine, 1)
    with session_scope(engine) as s:
        outbox.claim(s, W1, 10)
    with session_scope(engine) as s:
        outbox.recover(s, lease_seconds=60)  # another sender started meanwhile
        [again] = outbox.claim(s, W2, 10)
    with session_scope(engine) as s:
        assert not outbox.mark_sending(s, rid, W1)  # the first sender must not send it
        assert outbox.mark_sending(s, again.id, W2)


def test_recover_returns_claimed_and_stale_sending_rows_but_not_fresh_sending_ones(engine):
    ids = _enqueue(engine, 4)
    old = utcnow() - timedelta(minutes=10)
    with session_scope(engine) as s:
        outbox.claim(s, W1, 10, now=old)
        outbox.mark_sending(s, ids[1], W1, now=old)  # in flight when the sender died, long ago
        outbox.mark_sending(s, ids[2], W1)  # in flight right now (a live sender)
        outbox.mark_sending(s, ids[3], W1, now=old)
        outbox.mark_sent(s, ids[3])
    with session_scope(engine) as s:
        assert outbox.recover(s, lease_seconds=120) == {"claimed": 1, "sending": 1}
    assert _statuses(engine) == {ids[0]: "pending", ids[1]: "pending", ids[2]: "sending", ids[3]: "sent"}
    with session_scope(engine) as s:
        assert {r.id for r in outbox.claim(s, W2, 10)} == {ids[0], ids[1]}
        row = s.get(Outbox, ids[0])
        assert row.claimed_by == W2 and row.attempts == 0


def test_recover_with_a_grace_spares_young_claims(engine):
    ids = _enqueue(engine, 2)
    with session_scope(engine) as s:
        outbox.claim(s, W1, 1, now=utcnow() - timedelta(minutes=5))
        outbox.claim(s, W1, 1)
    with session_scope(engine) as s:
        assert outbox.recover(s, lease_seconds=120, claimed_grace=120) == {"claimed": 1, "sending": 0}
    assert _statuses(engine) == {ids[0]: "pending", ids[1]: "claimed"}


def test_blocked_chat_becomes_unreachable_with_its_person_and_waiting_messages(engine):
    with session_scope(engine) as s:
        people.get_or_create_person(s, 1000)
        people.get_or_create_person(s, 1001)
    ids = _enqueue(engine, 6, chats=2)
    with session_scope(engine) as s:
        outbox.claim(s, W1, 10)
        outbox.mark_sending(s, ids[0], W1)
        assert outbox.mark_unreachable(s, ids[0], "Forbidden: bot was blocked by the user") == 3
    st = _statuses(engine)
    assert [st[i] for i in ids[0::2]] == ["unreachable"] * 3
    assert [st[i] for i in ids[1::2]] == ["claimed", "pending", "pending"]
    with session_scope(engine) as s:
        status = {p.chat_id: p.status for p in s.exec(select(Person))}
        assert status == {1000: "unreachable", 1001: "active"}
        assert s.get(Outbox, ids[0]).error.startswith("Forbidden")


def test_failures_and_retries_are_counted(engine):
    ids = _enqueue(engine, 2)
    with session_scope(engine) as s:
        outbox.claim(s, W1, 10)
        outbox.mark_sending(s, ids[0], W1)
        outbox.retry_later(s, ids[0], utcnow(), "Transient: " + "x" * 500)
        outbox.mark_sending(s, ids[1], W1)
        outbox.mark_failed(s, ids[1], "Bad Request: can't parse entities")
    with session_scope(engine) as s:
        r0, r1 = s.get(Outbox, ids[0]), s.get(Outbox, ids[1])
        assert (r0.status, r0.attempts, r0.claimed_by) == ("pending", 1, None)
        assert len(r0.error) <= outbox.ERROR_MAX
        assert (r1.status, r1.attempts) == ("failed", 1)
        assert outbox.counts(s) == {"pending": 1, "claimed": 0, "sending": 0, "sent": 0, "failed": 1,
                                    "unreachable": 0}


def test_attachments_are_stored_as_given(engine):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    with session_scope(engine) as s:
        row = outbox.enqueue(s, 5, "digest", "本周结果", attachment=png, filename="week.png")
        doc = outbox.enqueue(s, 5, "feedback", "", attachment=b"a,b\n", filename="x.csv", attachment_kind="document")
    with session_scope(engine) as s:
        got = s.get(Outbox, row.id)
        assert (outbox.attachment_data(s, got), got.filename, got.attachment_kind) == (png, "week.png", "photo")
        assert s.get(Outbox, doc.id).attachment_kind == "document"
        assert outbox.attachment_data(s, doc.id) == b"a,b\n"
    with pytest.raises(ValueError):
        with session_scope(engine) as s:
            outbox.enqueue(s, 5, "digest", "x", attachment=png, attachment_kind="video")


def _attachments(engine) -> list[tuple[str, int]]:
    with session_scope(engine) as s:
        return sorted((a.sha256, len(a.data)) for a in s.exec(select(Attachment)))


def test_a_chart_for_many_chats_is_stored_once_and_goes_when_no_row_names_it(engine):
    chart, other = b"\x89PNG" + b"1" * 5000, b"\x89PNG" + b"2" * 5000
    with session_scope(engine) as s:
        rows = [outbox.enqueue(s, 100 + c, "digest", "图", attachment=chart, filename="p.png").id for c in range(10)]
        kept = outbox.enqueue(s, 200, "digest", "图", attachment=other, filename="q.png").id
    assert _attachments(engine) == sorted([(hashlib.sha256(chart).hexdigest(), len(chart)),
                                           (hashlib.sha256(other).hexdigest(), len(other))])
    with session_scope(engine) as s:
        assert all(outbox.attachment_data(s, r) == chart for r in rows)
        later = utcnow() + outbox.UNUSED_FOR + timedelta(minutes=1)
        s.execute(delete(Outbox).where(Outbox.id.in_(rows[1:])))
        assert outbox.drop_unused_attachments(s, later) == 0  # one row still names the chart
        s.execute(delete(Outbox).where(Outbox.id == rows[0]))
        assert outbox.drop_unused_attachments(s) == 0  # named a moment ago: may be named again
        assert outbox.drop_unused_attachments(s, later) == 1
    assert _attachments(engine) == [(hashlib.sha256(other).hexdigest(), len(other))]
    with session_scope(engine) as s:
        assert outbox.attachment_data(s, kept) == other


def test_concurrent_enqueues_of_one_chart_store_it_once_and_both_rows(engine):
    """Two organizers' digests with the same chart in two transactions at once: the second
    cannot see the first's uncommitted bytes (PostgreSQL); both rows are kept."""
    chart = b"\x89PNG" + b"3" * 5000
    first, second = _while_open(engine, lambda s: outbox.enqueue(s, 7, "digest", "图", attachment=chart).id,
                                lambda s: outbox.enqueue(s, 8, "digest", "图", attachment=chart).id)
    assert _attachments(engine) == [(hashlib.sha256(chart).hexdigest(), len(chart))]
    with session_scope(engine) as s:
        assert outbox.attachment_data(s, first) == chart == outbox.attachment_data(s, second)



def test_a_chart_named_again_while_it_is_dropped_is_kept(engine):
    """A purge drops unused charts while a digest worker names one of them again (the
    results of a closed campaign do not change: the same bytes). The purge cannot see the
    worker's uncommitted row; the chart must survive it."""
    chart = b"\x89PNG" + b"4" * 5000
    with session_scope(engine) as s:
        old = outbox.enqueue(s, 7, "digest", "图", attachment=chart).id
    with session_scope(engine) as s:  # its message is purged, and it was last named long ago
        s.execute(delete(Outbox).where(Outbox.id == old))
        s.execute(update(Attachment).values(used_at=utcnow() - timedelta(days=2)))
    # the purge waits for us (SQLite: the write lock; PostgreSQL: the chart's row)
    again, dropped = _while_open(engine, lambda s: outbox.enqueue(s, 8, "digest", "图", attachment=chart).id,
                                 outbox.drop_unused_attachments)
    assert dropped == 0
    with session_scope(engine) as s:
        assert outbox.attachment_data(s, again) == chart
