"""Sealing ballots: anonymity, the hash chain, one submission per rater."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from storage import ballots, campaigns, conversations, people
from storage.db import session_scope
from storage.models import Ballot, Membership

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


def test_submit_seals_an_anonymous_ballot_and_clears_the_draft(engine, loaded):
    with session_scope(engine) as s:
        p = _rater(s, loaded, 1001)
        ballot_id = ballots.submit_ballot(s, loaded.id, p.id, _submission())
    with session_scope(engine) as s:
        b = s.get(Ballot, ballot_id)
        assert b.group_key == "recipients" and b.seq == 1
        m = people.membership(s, loaded.id, p.id)
        assert m.submitted and m.status == "submitted"
        assert conversations.load(s, p.id, loaded.id, "questionnaire") is None
        assert campaigns.get_row(s, loaded.id).chain_count == 1


def test_no_table_or_column_ties_a_ballot_to_a_person(engine, loaded):
    with session_scope(engine) as s:
        p = _rater(s, loaded, 777000111)
        ballot_id = ballots.submit_ballot(s, loaded.id, p.id, _submission(opinion="我的意见"))
    insp = inspect(engine)
    sealed = {"ballot", "answer", "opinion"}
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
                assert ballot_id not in flat and "我的意见" not in flat, table
        assert "777000111" not in " ".join(str(v) for r in conn.execute(text("SELECT * FROM ballot")) for v in r)


def test_a_rater_cannot_submit_twice(engine, loaded):
    with session_scope(engine) as s:
        p = _rater(s, loaded, 1002)
        ballots.submit_ballot(s, loaded.id, p.id, _submission())
    with pytest.raises(ballots.AlreadySubmitted):
        with session_scope(engine) as s:
            ballots.submit_ballot(s, loaded.id, p.id, _submission())
    with session_scope(engine) as s:
        assert len(s.exec(select(Ballot)).all()) == 1
        assert campaigns.get_row(s, loaded.id).chain_count == 1


def test_a_stranger_cannot_submit(engine, loaded):
    with pytest.raises(ballots.NotAMember):
        with session_scope(engine) as s:
            p = people.get_or_create_person(s, 5)
            ballots.submit_ballot(s, loaded.id, p.id, _submission())


def _three_ballots(engine, loaded):
    ids = []
    for chat in (11, 12, 13):
        with session_scope(engine) as s:
            p = _rater(s, loaded, chat)
            ids.append(ballots.submit_ballot(s, loaded.id, p.id, _submission(opt="basically")))
    return ids


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
