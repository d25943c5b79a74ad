"""The draw's records on SQLite and PostgreSQL: who enters the frozen pool, what is
published, the seed kept until reveal, rounds recorded on memberships."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from flows import sampling
from flows.campaign import Campaign
from storage import campaigns, draw, people
from storage.db import session_scope
from storage.models import Membership
from tests.factories import campaign_data

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def stored(engine):
    campaign = Campaign.model_validate(campaign_data())
    with session_scope(engine) as s:
        campaigns.store_campaign(s, campaign, "")
        for i in range(16):
            person = people.get_or_create_person(s, 7_000_000 + i)
            m = people.enrol(s, campaign.id, person, "recipients")
            m.consented = i != 12  # never agreed
            m.status = "opted_out" if i == 13 else m.status
            m.only_evaluee = "water" if i == 14 else None  # after-service rater
            s.add(m)
        person = people.get_or_create_person(s, 7_000_099)
        people.enrol(s, campaign.id, person, "public")  # open group: no draw
    return campaign


def test_pool_holds_consented_members_of_sampled_groups_only(engine, stored):
    with session_scope(engine) as s:
        result = draw.commit(s, stored, NOW)
        published = draw.pool_file(s, stored)
        seed = draw.get(s, stored.id).seed
    assert len(result.pools["recipients"]) == 13 and result.pools["staff"] == []
    assert "public" not in published["groups"]
    text = json.dumps(published)
    assert not any(str(7_000_000 + i) in text for i in range(16))  # no chat ids
    assert seed not in text  # the seed stays secret until reveal
    assert published["commitment"] == result.commitment and published["groups"]["recipients"]["sample"] == 10


def test_reveal_records_round_one_and_matches_the_published_procedure(engine, stored):
    with session_scope(engine) as s:
        result = draw.commit(s, stored, NOW)
        pool = draw.pool_file(s, stored)
        with pytest.raises(draw.DrawError, match="already frozen"):
            draw.commit(s, stored, NOW)
    with session_scope(engine) as s:
        revealed = draw.reveal(s, stored, NOW)
        with pytest.raises(draw.DrawError, match="already revealed"):
            draw.reveal(s, stored, NOW)
    assert revealed.drawn["recipients"] == sampling.draw(revealed.seed, result.pools["recipients"], 10)
    assert revealed.short == [("staff", 0, 5)]  # empty pool: taken whole, with a warning
    assert sampling.commitment(revealed.seed, pool["pool_digest"]) == result.commitment
    with session_scope(engine) as s:
        drawn = s.exec(select(Membership).where(Membership.drawn_round == 1)).all()
        assert len(drawn) == 10 and {m.status for m in drawn} == {"drawn"}
        assert draw.revealed(s, stored.id)
