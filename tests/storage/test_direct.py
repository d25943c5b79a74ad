"""The tap's fast path reads and writes exactly what the ORM does, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import campaigns, conversations, people, updates
from storage.db import session_scope
from storage.models import Conversation

pytestmark = pytest.mark.postgres

STATE = {"locale": "zh", "answers": {"transport": {"style": "satisfied"}}, "opinions": {"transport": "窗口<b>&很好"},
         "index": 1, "paused": False}


def _answering(engine, campaign, chat_id: int = 701) -> int:
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        person = people.get_or_create_person(s, chat_id, "zh")
        people.enrol(s, campaign.id, person, "public")
        conv = conversations.save(s, person.id, campaign.id, "questionnaire", STATE, {"q3": 41})
        return conv.id


def test_answering_context_matches_the_orm(engine, campaign):
    _answering(engine, campaign)
    with session_scope(engine) as s:
        fast = conversations.load_answering(s, 701, "questionnaire")
        full = conversations.load_context(s, 701, "questionnaire")
    assert fast is not None
    assert fast.state == full.conv.state == STATE
    assert fast.cards == full.conv.cards == {"q3": 41}
    assert fast.phase == full.phase
    assert campaigns.phase(fast.phase, datetime(2027, 1, 1, tzinfo=UTC)) == "open"
    assert (fast.member.group_key, fast.member.submitted, fast.member.consented, fast.member.drawn_round) == \
        (full.member.group_key, full.member.submitted, full.member.consented, full.member.drawn_round)
    assert (fast.person.id, fast.person.locale, fast.person.current_campaign) == \
        (full.person.id, "zh", campaign.id)


def test_no_answering_context_without_a_conversation(engine, campaign):
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        person = people.get_or_create_person(s, 702, "zh")
        people.enrol(s, campaign.id, person, "public")
    with session_scope(engine) as s:
        assert conversations.load_answering(s, 702, "questionnaire") is None  # enrolled, not started
        assert conversations.load_answering(s, 999, "questionnaire") is None  # a stranger


def test_saved_state_reads_back_through_the_orm(engine, campaign):
    conv_id = _answering(engine, campaign)
    with session_scope(engine) as s:
        before = s.get(Conversation, conv_id).updated_at
    new = {**STATE, "index": 0, "opinions": {"water": "排队太久 😤"}}
    with session_scope(engine) as s:
        conversations.save_answering(s, conv_id, new, {"q3": 41, "q4": 42})
    with session_scope(engine) as s:
        conv = s.get(Conversation, conv_id)
        assert conv.state == new and conv.cards == {"q3": 41, "q4": 42}
        after = conv.updated_at
    assert after.replace(tzinfo=None) >= before.replace(tzinfo=None)


def test_a_repeated_update_id_is_refused_and_the_transaction_stays_usable(engine):
    with session_scope(engine) as s:
        assert updates.first_time(s, 42)
    with session_scope(engine) as s:
        assert not updates.first_time(s, 42)
        assert updates.first_time(s, 43)  # the same session goes on after the refusal
    with session_scope(engine) as s:
        assert not updates.first_time(s, 43)


def test_values_written_into_a_statement_are_bound_and_expanding_in_is_refused(engine, campaign):
    from sqlalchemy import bindparam, select

    from storage.direct import Direct
    from storage.models import Person

    _answering(engine, campaign, chat_id=703)
    p = Person.__table__.c
    with session_scope(engine) as s:
        fixed = Direct(select(p.chat_id).where(p.locale == "zh", p.chat_id == bindparam("chat_id")))
        assert fixed.rows(s, chat_id=703) == [(703,)]
        assert fixed.rows(s, chat_id=704) == []
        with pytest.raises(ValueError, match="expanding IN"):
            Direct(select(p.chat_id).where(p.chat_id.in_([703, 704]))).rows(s)
