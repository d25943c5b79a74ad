"""Feedback and rectification storage on SQLite and PostgreSQL: contacts, notices,
rounds, plans and the anonymous follow-up survey."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from storage import rectification as rs
from storage import people
from storage.db import session_scope
from tests.feedback_setup import RECIPIENTS, STAFF, closed_campaign

pytestmark = pytest.mark.postgres

NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)


def test_contacts_bind_unbind_one_evaluee_per_campaign(engine):
    campaign = closed_campaign(engine)
    with session_scope(engine) as s:
        a = people.get_or_create_person(s, 8001)
        b = people.get_or_create_person(s, 8002)
        rs.bind(s, campaign.id, "transport", a.id)
        rs.bind(s, campaign.id, "transport", a.id)  # idempotent
        rs.bind(s, campaign.id, "transport", b.id)
        with pytest.raises(rs.OtherEvaluee):
            rs.bind(s, campaign.id, "water", a.id)
        assert [p.chat_id for p in rs.contacts(s, campaign.id, "transport")] == [8001, 8002]
        b.status = "unreachable"
        s.add(b)
        s.flush()
        assert [p.chat_id for p in rs.contacts(s, campaign.id, "transport", reachable=True)] == [8001]
        assert rs.unbind(s, campaign.id, "transport", 8001, NOW)
        rs.bind(s, campaign.id, "water", a.id)  # free again after unbinding
        assert rs.contact_of(s, campaign.id, a.id).evaluee_key == "water"


def test_notice_items_numbered_and_rounds(engine):
    campaign = closed_campaign(engine)
    with session_scope(engine) as s:
        rs.store_notice(s, campaign.id, "transport", ["b", "a", "c"], 1, NOW)
        assert [(i.number, i.text) for i in rs.items(s, campaign.id, "transport")] == [(1, "b"), (2, "a"), (3, "c")]
        r1 = rs.open_round(s, campaign.id, "transport", 1, date(2027, 2, 9), NOW)
        plan = rs.add_plan(s, r1.id, [3, 1, 1], "m", "o", date(2027, 1, 20))
        assert plan.items == [1, 3]
        rs.record_progress(s, plan, "half", NOW)
        rs.mark_done(s, plan, NOW)
        r2 = rs.open_round(s, campaign.id, "transport", 2, date(2027, 3, 9), NOW)
        assert rs.current_round(s, campaign.id, "transport").id == r2.id
    with session_scope(engine) as s:
        [p] = rs.plans(s, r1.id)
        assert (p.status, p.progress, p.deadline) == ("done", "half", date(2027, 1, 20))


def test_raters_of_follow_the_groups_that_rate_the_evaluee(engine):
    campaign = closed_campaign(engine)
    with session_scope(engine) as s:
        assert sorted(p.chat_id for p in rs.raters_of(s, campaign, "transport")) == sorted([*RECIPIENTS, STAFF])
        # the staff member rates only their own unit
        assert sorted(p.chat_id for p in rs.raters_of(s, campaign, "water")) == sorted(RECIPIENTS)


def test_followup_answers_are_anonymous_and_once_per_person(engine):
    campaign = closed_campaign(engine)
    with session_scope(engine) as s:
        rnd = rs.open_round(s, campaign.id, "transport", 1, date(2027, 2, 9), NOW)
        [a, b, c] = [people.get_or_create_person(s, chat) for chat in RECIPIENTS]
        assert rs.ask(s, rnd.id, a.id) and rs.ask(s, rnd.id, b.id)
        assert not rs.ask(s, rnd.id, a.id)
        rs.answer(s, rnd.id, a.id, "satisfied")
        with pytest.raises(rs.AlreadyAnswered):
            rs.answer(s, rnd.id, a.id, "dissatisfied")
        with pytest.raises(rs.NotAsked):
            rs.answer(s, rnd.id, c.id, "satisfied")
        rs.answer(s, rnd.id, b.id, None)
        assert rs.followup_counts(s, rnd.id) == (2, 2, {"satisfied": 1, None: 1})
        answers = s.exec(select(rs.FollowupAnswer)).all()
        # no person, no time: only a random id, the round and the option
        assert {(x.round_id, x.option_key) for x in answers} == {(rnd.id, "satisfied"), (rnd.id, None)}
        assert all(len(x.id) == 32 for x in answers)
        rs.close_survey(s, rnd, 1, 1, NOW)
        assert rnd.rate == 1.0


def test_end_of_a_deadline_day_is_midnight_in_the_campaign_zone():
    assert rs.end_of(date(2027, 1, 20), "Asia/Shanghai") == datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    assert rs.local_today(datetime(2027, 1, 20, 16, 0, tzinfo=UTC), "Asia/Shanghai") == date(2027, 1, 21)


def _membership(s, campaign, chat_id):
    person = people.find_person(s, chat_id)
    return person, people.membership(s, campaign.id, person.id)


def test_an_after_service_rater_is_asked_only_about_their_evaluee(engine):
    campaign = closed_campaign(engine)
    with session_scope(engine) as s:
        _, m = _membership(s, campaign, RECIPIENTS[0])
        m.only_evaluee = "water"  # came through water's after-service link
        s.add(m)
        s.flush()
        assert RECIPIENTS[0] not in [p.chat_id for p in rs.raters_of(s, campaign, "transport")]
        assert RECIPIENTS[0] in [p.chat_id for p in rs.raters_of(s, campaign, "water")]


def test_opted_out_and_unreachable_raters_are_not_asked(engine):
    campaign = closed_campaign(engine)
    with session_scope(engine) as s:
        _, m = _membership(s, campaign, RECIPIENTS[0])
        m.status = "opted_out"  # /stop after submitting: submitted stays True
        s.add(m)
        stopped, _ = _membership(s, campaign, RECIPIENTS[1])
        stopped.status = "stopped"
        s.add(stopped)
        s.flush()
        assert m.submitted
        assert sorted(p.chat_id for p in rs.raters_of(s, campaign, "transport")) == sorted([RECIPIENTS[2], STAFF])
