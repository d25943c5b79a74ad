"""Sealing ballots: anonymity, the hash chain, one submission per rater."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from storage import ballots, campaigns, conversations, people
from storage.db import session_scope
from storage.models import Answer, Ballot, Membership

pytestmark = pytest.mark.postgres


def _submission(group="recipients", opt="satisfied", opinion="办事效率高"):
    return SimpleNamespace(
        group=group,
        answers={"transport": {"style": opt, "efficiency": None}, "water": {"style": "fairly", "efficiency": "dissatisfied"}},
        opinions={"transport": opinion, "water": ""},
    )


def _rater(session, campaign, chat_id, group="recipients"):
    p = people.get_or_create_person(session, chat_id)
    people.enrol(session, campaign.id, p, group)
    conversations.save(session, p.id, campaign.id, "questionnaire", {"draft": True})
    return p


@pytest.fixture
def loaded(engine, campaign):
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "source")
    return campaign


def test_submit_seals_an_envelope_and_clears_the_draft_then_a_batch_chains_it(engine, loaded):
    with session_scope(engine) as s:
        p = _rater(s, loaded, 1001)
        ballot_id = ballots.submit_ballot(s, loaded.id, p.id, _submission())
    with session_scope(engine) as s:
        assert s.get(Ballot, ballot_id) is None  # not in the chain yet
        envelope = s.get(ballots.Envelope, ballot_id)
        assert envelope.group_key == "recipients" and envelope.content["opinions"] == {"transport": "办事效率高"}
        m = people.membership(s, loaded.id, p.id)
        assert m.submitted and m.status == "submitted" and m.chain_batch is None
        assert conversations.load(s, p.id, loaded.id, "questionnaire") is None
        row = campaigns.get_row(s, loaded.id)
        assert (row.sealed_count, row.chain_count) == (1, 0) and row.pending_since is not None
    with session_scope(engine) as s:
        assert ballots.append_envelopes(s, loaded.id) == 1
    ballots.scrub(engine)
    with session_scope(engine) as s:
        b = s.get(Ballot, ballot_id)
        assert b.group_key == "recipients" and b.seq == 1
        assert s.get(ballots.Envelope, ballot_id) is None
        assert people.membership(s, loaded.id, p.id).chain_batch == 1
        row = campaigns.get_row(s, loaded.id)
        assert (row.sealed_count, row.chain_count, row.pending_since) == (1, 1, None)
        assert ballots.verify_chain(s, loaded.id) == []


def test_the_chain_order_is_not_the_order_of_submission(engine, loaded):
    """20 raters submit one after another; the batch appends their ballots in a random
    order (the identity has a chance of 1 in 20!)."""
    ids = []
    for chat in range(2000, 2020):
        with session_scope(engine) as s:
            p = _rater(s, loaded, chat)
            ids.append(ballots.submit_ballot(s, loaded.id, p.id, _submission()))
    with session_scope(engine) as s:
        ballots.append_envelopes(s, loaded.id)
        chained = [b.id for b in s.exec(select(Ballot).order_by(Ballot.seq))]
        by_answer_id = [a.ballot_id for a in s.exec(select(Answer).order_by(Answer.id))]
    assert sorted(chained) == sorted(ids) and chained != ids
    # Answer rows are numbered in chain order, not in submission order.
    assert list(dict.fromkeys(by_answer_id)) == chained


def test_a_batch_is_due_at_its_size_or_after_its_minutes(engine, loaded):
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        for chat in (3001, 3002):
            p = _rater(s, loaded, chat)
            ballots.submit_ballot(s, loaded.id, p.id, _submission(), now=now)
        row = campaigns.get_row(s, loaded.id)
        assert ballots.due(row, 2, batch=3, minutes=60, now=now + timedelta(minutes=59)) is False
        assert ballots.due(row, 2, batch=2, minutes=60, now=now) is True
        assert ballots.due(row, 2, batch=3, minutes=60, now=now + timedelta(minutes=60)) is True
        assert ballots.due(row, 0, batch=1, minutes=60, now=now + timedelta(days=1)) is False


def test_no_table_or_column_ties_a_ballot_to_a_person(engine, loaded):
    with session_scope(engine) as s:
        p = _rater(s, loaded, 777000111)
        ballot_id = ballots.submit_ballot(s, loaded.id, p.id, _submission(opinion="我的意见"))
        q = _rater(s, loaded, 777000222)
        ballots.submit_ballot(s, loaded.id, q.id, _submission(opinion="另一个意见"))  # stays in its envelope
        ballots.append_envelopes(s, loaded.id)
        r = _rater(s, loaded, 777000333)
        ballots.submit_ballot(s, loaded.id, r.id, _submission(opinion="还在信封里"))
    insp = inspect(engine)
    sealed = {"ballot", "answer", "opinion", "envelope"}
    for table in sealed:
        cols = {c["name"] for c in insp.get_columns(table)}
        assert not cols & {"person_id", "chat_id", "membership_id", "created_at", "submitted_at", "user_id"}, table
        targets = {fk["referred_table"] for fk in insp.get_foreign_keys(table)}
        assert targets <= {"ballot", "campaign"}, (table, targets)
    for table in set(insp.get_table_names()) - sealed:
        targets = {fk["referred_table"] for fk in insp.get_foreign_keys(table)}
        assert not targets & sealed, f"{table} points at a sealed table"
    # No stored value outside the sealed tables mentions the ballot id or the opinion.
    with engine.connect() as conn:
        for table in set(insp.get_table_names()) - sealed:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                flat = " ".join(str(v) for v in row)
                assert ballot_id not in flat and "我的意见" not in flat and "还在信封里" not in flat, table
        for table in sealed:
            flat = " ".join(str(v) for r in conn.execute(text(f"SELECT * FROM {table}")) for v in r)
            assert "777000111" not in flat and "777000333" not in flat, table


def test_a_rater_cannot_submit_twice(engine, loaded):
    with session_scope(engine) as s:
        p = _rater(s, loaded, 1002)
        ballots.submit_ballot(s, loaded.id, p.id, _submission())
    with pytest.raises(ballots.AlreadySubmitted):
        with session_scope(engine) as s:
            ballots.submit_ballot(s, loaded.id, p.id, _submission())
    with session_scope(engine) as s:
        assert len(s.exec(select(ballots.Envelope)).all()) == 1
        assert campaigns.get_row(s, loaded.id).sealed_count == 1


def test_a_stranger_cannot_submit(engine, loaded):
    with pytest.raises(ballots.NotAMember):
        with session_scope(engine) as s:
            p = people.get_or_create_person(s, 5)
            ballots.submit_ballot(s, loaded.id, p.id, _submission())


def _three_ballots(engine, loaded):
    """Three ballots in the chain; their ids in chain order."""
    for chat in (11, 12, 13):
        with session_scope(engine) as s:
            p = _rater(s, loaded, chat)
            ballots.submit_ballot(s, loaded.id, p.id, _submission(opt="basically"))
    with session_scope(engine) as s:
        ballots.append_envelopes(s, loaded.id)
        return [b.id for b in s.exec(select(Ballot).order_by(Ballot.seq))]


def test_intact_chain_verifies(engine, loaded):
    _three_ballots(engine, loaded)
    with session_scope(engine) as s:
        assert ballots.verify_chain(s, loaded.id) == []


def test_edited_answer_breaks_the_chain_at_its_position(engine, loaded):
    ids = _three_ballots(engine, loaded)
    with engine.begin() as conn:
        conn.execute(text("UPDATE answer SET option_key='satisfied' WHERE ballot_id=:b AND dimension_key='style' "
                          "AND evaluee_key='transport'"), {"b": ids[1]})
    with session_scope(engine) as s:
        problems = ballots.verify_chain(s, loaded.id)
    assert [(p.position, p.ballot_id) for p in problems] == [(2, ids[1])]
    assert "altered" in problems[0].problem


def test_deleted_ballot_is_reported(engine, loaded):
    ids = _three_ballots(engine, loaded)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM answer WHERE ballot_id=:b"), {"b": ids[1]})
        conn.execute(text("DELETE FROM opinion WHERE ballot_id=:b"), {"b": ids[1]})
        conn.execute(text("DELETE FROM ballot WHERE id=:b"), {"b": ids[1]})
    with session_scope(engine) as s:
        problems = ballots.verify_chain(s, loaded.id)
    assert any(p.position == 2 and "missing or inserted" in p.problem for p in problems)
    assert any("records 3 ballots, found 2" in p.problem for p in problems)


def test_membership_is_one_group_per_campaign(engine, loaded):
    with session_scope(engine) as s:
        p = people.get_or_create_person(s, 42)
        people.enrol(s, loaded.id, p, "recipients")
        with pytest.raises(people.AlreadyEnrolled) as err:
            people.enrol(s, loaded.id, p, "public")
        assert err.value.group_key == "recipients"
        assert len(s.exec(select(Membership)).all()) == 1
