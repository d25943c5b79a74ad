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
    assert len(result.pools["recipients"]) == 13
    # own-unit staff are drawn per unit: the sample of 5 split over the two units
    assert result.pools["staff/transport"] == result.pools["staff/water"] == []
    assert result.samples == {"recipients": 10, "staff/transport": 3, "staff/water": 2}
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
    assert revealed.short == [("staff/transport", 0, 3), ("staff/water", 0, 2)]  # empty pools: taken whole
    assert sampling.commitment(revealed.seed, pool["pool_digest"]) == result.commitment
    with session_scope(engine) as s:
        drawn = s.exec(select(Membership).where(Membership.drawn_round == 1)).all()
        assert len(drawn) == 10 and {m.status for m in drawn} == {"drawn"}
        assert draw.revealed(s, stored.id)


# --- a draw nobody can choose (issue 15, item 3) ------------------------------------------
LOTTERY = "中国福利彩票双色球 2026-12-03 开奖号码"


def test_a_draw_bound_to_a_public_draw_needs_its_result_and_depends_on_it(engine, stored):
    with session_scope(engine) as s:
        result = draw.commit(s, stored, NOW, beacon=f"  {LOTTERY} ")
        pool = draw.pool_file(s, stored)
        seed = draw.get(s, stored.id).seed
    assert pool["beacon"] == LOTTERY and pool["procedure"] == sampling.PROCEDURE_BEACON
    # the commitment binds the seed, the pools and the public draw's name
    assert result.commitment == sampling.commitment(seed, pool["pool_digest"], LOTTERY)
    assert result.commitment != sampling.commitment(seed, pool["pool_digest"])
    with session_scope(engine) as s:
        with pytest.raises(draw.DrawError, match="enter its result with --beacon-value"):
            draw.reveal(s, stored, NOW)
        with pytest.raises(draw.DrawError, match="empty"):
            draw.reveal(s, stored, NOW, beacon_value=" ")
    with session_scope(engine) as s:
        assert not draw.revealed(s, stored.id)  # refused: nothing drawn
        revealed = draw.reveal(s, stored, NOW, beacon_value="03 07 12 19 25 31 + 09")
        published = draw.drawn_file(s, stored)
    draw_seed = sampling.beacon_seed(seed, "3.7.12.19.25.31./9./")
    assert revealed.draw_seed == draw_seed == published["draw_seed"] != seed
    assert revealed.drawn["recipients"] == sampling.draw(draw_seed, result.pools["recipients"], 10)
    # the committed seed alone would have drawn another sample (13 in the pool, 10 drawn)
    others = {tuple(sampling.draw(sampling.beacon_seed(seed, f"1 2 3 4 5 6 + {k}"), result.pools["recipients"], 10))
              for k in range(1, 17)}
    assert len(others) > 1
    check = sampling.verify(pool, seed, result.commitment, published["drawn"], "31 25 19 12 7 3 + 9")
    assert check.ok and check.draw_seed == draw_seed
    assert not sampling.verify(pool, seed, result.commitment, published["drawn"], "1 2 3 4 5 6 + 7").ok
    assert "give its result" in sampling.verify(pool, seed, result.commitment, published["drawn"]).problems[0]


def test_a_legacy_draw_takes_no_value_and_a_beacon_must_be_named(engine, stored):
    with session_scope(engine) as s:
        for bad, message in (("   ", "it is empty"), ("x" * 301, "at most 300")):
            with pytest.raises(draw.DrawError, match=message):
                draw.commit(s, stored, NOW, beacon=bad)
        assert not draw.committed(s, stored.id)
    with session_scope(engine) as s:
        draw.commit(s, stored, NOW)
        assert draw.pool_file(s, stored)["beacon"] is None
    with session_scope(engine) as s:
        with pytest.raises(draw.DrawError, match="without a public draw"):
            draw.reveal(s, stored, NOW, beacon_value="1 2 3")
    with session_scope(engine) as s:
        revealed = draw.reveal(s, stored, NOW)
    assert revealed.draw_seed == revealed.seed  # as before: the committed seed draws
