"""``verify``: the hash chain finds altered, deleted, inserted and swapped ballots, the
close record finds ballots added after close, and the independent recount finds any
published figure that no longer matches the ballots."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select, update

from reports import recount, tally
from reports.verify import verify
from storage import ballots
from storage.db import session_scope
from storage.models import Answer, Ballot, CampaignRow
from tests.reports.handworked import load_handworked


@pytest.fixture
def closed(engine):
    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    return campaign


def run(engine, campaign):
    with session_scope(engine) as s:
        return verify(s, campaign)


def ballot_at(s, seq):
    return s.execute(select(Ballot).where(Ballot.seq == seq)).scalar_one()


def test_untouched_campaign_verifies(engine, closed):
    result = run(engine, closed)
    assert result.ok and result.recounted


def test_the_recount_agrees_with_the_tally_figure_by_figure(engine, closed):
    with session_scope(engine) as s:
        assert recount.compare(tally.stored(s, closed.id), recount.recount(s, closed)) == []


def test_edited_answer_is_found_by_chain_and_recount(engine, closed):
    with session_scope(engine) as s:
        b = ballot_at(s, 3)
        s.execute(update(Answer).where(Answer.ballot_id == b.id, Answer.evaluee_key == "transport",
                                       Answer.dimension_key == "style").values(option_key="dissatisfied"))
    result = run(engine, closed)
    assert [(p.position, "altered" in p.problem) for p in result.chain] == [(3, True)]
    where = {d.where for d in result.differences}
    assert "transport/recipients/style satisfied" in where and "transport total" in where


def test_deleted_ballot_is_found(engine, closed):
    with session_scope(engine) as s:
        b = ballot_at(s, 5)
        s.execute(delete(Answer).where(Answer.ballot_id == b.id))
        s.execute(delete(Ballot).where(Ballot.id == b.id))
    result = run(engine, closed)
    assert result.chain[0].position == 5 and "missing or inserted" in result.chain[0].problem
    assert any("records 11 ballots, found 10" in p.problem for p in result.chain)
    assert any(d.where == "ballots" and (d.published, d.recounted) == (11, 10) for d in result.differences)


def test_inserted_ballot_is_found(engine, closed):
    # Shift ballots 6.. up by one and put a forged ballot at position 6.
    with session_scope(engine) as s:
        for seq in range(11, 5, -1):
            s.execute(update(Ballot).where(Ballot.seq == seq).values(seq=seq + 1))
        prev = ballot_at(s, 5)
        s.add(Ballot(id="f" * 32, campaign_id=closed.id, group_key="recipients", seq=6, prev_hash=prev.hash,
                     hash=ballots.chain_hash(prev.hash, "forged")))
        s.flush()
        s.add(Answer(ballot_id="f" * 32, evaluee_key="transport", dimension_key="style", option_key="satisfied"))
    result = run(engine, closed)
    assert any(p.position == 6 and "altered" in p.problem for p in result.chain)
    assert any(p.position == 7 and "broken" in p.problem for p in result.chain)
    assert any(d.where == "ballots" for d in result.differences)


def test_ballot_appended_after_close_with_a_rewritten_head_is_found(engine, closed):
    # A forger who extends the chain correctly and updates the campaign row: the chain
    # is whole, but the record made at close and the recount give it away.
    with session_scope(engine) as s:
        s.execute(update(CampaignRow).where(CampaignRow.id == closed.id).values(closed=False))
        from storage import people
        person = people.get_or_create_person(s, 99999)
        people.enrol(s, closed.id, person, "recipients")
        ballots.submit_ballot(s, closed.id, person.id, SimpleNamespace(
            answers={"transport": {"style": "satisfied", "efficiency": "satisfied"}}, opinions={}))
        s.execute(update(CampaignRow).where(CampaignRow.id == closed.id).values(closed=True))
    result = run(engine, closed)
    assert result.chain == []
    assert result.sealed_chain and "11 ballots" in result.sealed_chain[0]
    assert any(d.where == "ballots" and (d.published, d.recounted) == (11, 12) for d in result.differences)


def test_swapped_ballots_are_found(engine, closed):
    with session_scope(engine) as s:
        a, b = ballot_at(s, 2), ballot_at(s, 3)
        s.execute(update(Ballot).where(Ballot.id == a.id).values(seq=-1))
        s.execute(update(Ballot).where(Ballot.id == b.id).values(seq=2))
        s.execute(update(Ballot).where(Ballot.id == a.id).values(seq=3))
    result = run(engine, closed)
    assert {p.position for p in result.chain} >= {2, 3}
    assert all("broken" in p.problem for p in result.chain)


def test_a_closed_campaign_takes_no_more_ballots(engine, closed):
    with session_scope(engine) as s:
        from storage import people
        person = people.get_or_create_person(s, 88888)
        people.enrol(s, closed.id, person, "recipients")
        with pytest.raises(ballots.CampaignClosed):
            ballots.submit_ballot(s, closed.id, person.id, SimpleNamespace(answers={}, opinions={}))


def test_sealed_open_campaign_verifies_the_chain_only(engine):
    campaign = load_handworked(engine)
    result = run(engine, campaign)
    assert result.ok and not result.recounted and result.differences == []
