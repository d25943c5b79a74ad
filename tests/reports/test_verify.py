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
    with session_scope(engine) as s:  # a service recipient's 满意 for 交通局's work style, wherever it is
        b = s.execute(select(Ballot).join(Answer, Answer.ballot_id == Ballot.id)
                      .where(Ballot.group_key == "recipients", Answer.evaluee_key == "transport",
                             Answer.dimension_key == "style", Answer.option_key == "satisfied")).scalars().first()
        position = b.seq
        s.execute(update(Answer).where(Answer.ballot_id == b.id, Answer.evaluee_key == "transport",
                                       Answer.dimension_key == "style").values(option_key="dissatisfied"))
    result = run(engine, closed)
    assert [(p.position, "altered" in p.problem) for p in result.chain] == [(position, True)]
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
        ballots.append_envelopes(s, closed.id)
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


def test_an_extra_ballot_with_a_consistent_chain_is_a_double_count(engine):
    """Someone with write access appends one more ballot while the campaign is open,
    extending the chain and its head correctly, with no rater behind it: the chain is
    whole, but verify counts ballots against the raters marked submitted."""
    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        row = s.get(CampaignRow, campaign.id)
        content = ballots.canonical("e" * 32, campaign.id, "recipients",
                                    {"transport": {"style": "satisfied", "efficiency": "satisfied"}}, {})
        digest = ballots.chain_hash(row.chain_head, content)
        s.add(Ballot(id="e" * 32, campaign_id=campaign.id, group_key="recipients", seq=row.chain_count + 1,
                     prev_hash=row.chain_head, hash=digest))
        s.flush()
        for dim in ("style", "efficiency"):
            s.add(Answer(ballot_id="e" * 32, evaluee_key="transport", dimension_key=dim, option_key="satisfied"))
        s.execute(update(CampaignRow).where(CampaignRow.id == campaign.id)
                  .values(chain_head=digest, chain_count=row.chain_count + 1))
    result = run(engine, campaign)
    assert result.chain == [] and not result.ok
    assert result.counts == ["rater group 'recipients': 5 ballots but 4 raters marked as submitted"]


def _edit_one_answer(s, closed):
    """A recipient's 满意 for 交通局's work style becomes 不满意; returns the ballot."""
    b = s.execute(select(Ballot).join(Answer, Answer.ballot_id == Ballot.id)
                  .where(Ballot.group_key == "recipients", Answer.evaluee_key == "transport",
                         Answer.dimension_key == "style", Answer.option_key == "satisfied")).scalars().first()
    s.execute(update(Answer).where(Answer.ballot_id == b.id, Answer.evaluee_key == "transport",
                                   Answer.dimension_key == "style").values(option_key="dissatisfied"))
    return b


def _rehash_from(s, closed, position):
    """Re-hash the chain from ``position`` on with the sealing code (not the walk's)."""
    from storage.campaigns import genesis_hash

    data = ballots.load_chain(s, closed.id)
    prev = data.ballots[position - 2][4] if position > 1 else genesis_hash(closed.id)
    for bid, group, _seq, _, _ in data.ballots[position - 1:]:
        digest = ballots.chain_hash(prev, ballots.canonical(bid, closed.id, group, data.answers.get(bid, {}),
                                                            data.opinions.get(bid, {})))
        s.execute(update(Ballot).where(Ballot.id == bid).values(prev_hash=prev, hash=digest))
        prev = digest
    s.execute(update(CampaignRow).where(CampaignRow.id == closed.id).values(chain_head=prev))


def test_edited_answer_with_the_chain_rehashed_is_found_by_the_recount(engine, closed):
    # A forger who edits an answer and re-hashes the chain from that ballot on (the
    # campaign's head too): the chain walk finds nothing; the recount, counting the rows
    # the walk hashed, differs from the tally published at close.
    with session_scope(engine) as s:
        _rehash_from(s, closed, _edit_one_answer(s, closed).seq)
    result = run(engine, closed)
    assert result.chain == [] and result.sealed_chain  # the head recorded at close differs
    where = {d.where for d in result.differences}
    assert "transport/recipients/style satisfied" in where and "transport total" in where
    diff = next(d for d in result.differences if d.where == "transport/recipients/style count[dissatisfied]")
    assert diff.recounted == diff.published + 1


def test_a_duplicated_answer_row_is_found_by_the_chain(engine, closed):
    # An answer row copied within its ballot, once with the same option and once as
    # 不了解 (which cannot even be ordered against an option): the ballot no longer hashes.
    with session_scope(engine) as s:
        first, second = ballot_at(s, 1), ballot_at(s, 2)
        a1 = s.execute(select(Answer).where(Answer.ballot_id == first.id)).scalars().first()
        a2 = s.execute(select(Answer).where(Answer.ballot_id == second.id, Answer.option_key.is_not(None))
                       ).scalars().first()
        s.add(Answer(ballot_id=first.id, evaluee_key=a1.evaluee_key, dimension_key=a1.dimension_key,
                     option_key=a1.option_key))
        s.add(Answer(ballot_id=second.id, evaluee_key=a2.evaluee_key, dimension_key=a2.dimension_key,
                     option_key=None))
    result = run(engine, closed)
    assert [(p.position, "altered" in p.problem) for p in result.chain] == [(1, True), (2, True)]
    assert result.differences  # counted twice by the recount as by any count of the rows


@pytest.mark.parametrize("key", ['交通 "局"', "a\\b", "transport!", "transport\x01", "transport "])
def test_keys_unlike_the_campaign_files_are_hashed_exactly(engine, closed, key):
    # Keys a campaign file cannot have (the walk's fast path covers only those it can):
    # re-hashed by the sealing code, the chain still verifies, and the recount counts
    # the row under that key.
    with session_scope(engine) as s:
        one, position = s.execute(select(Answer.id, Ballot.seq).join(Ballot, Ballot.id == Answer.ballot_id)
                                  .where(Answer.evaluee_key == "transport", Answer.dimension_key == "style")
                                  .order_by(Ballot.seq)).first()
        s.execute(update(Answer).where(Answer.id == one).values(evaluee_key=key))  # next to its other transport rows
        _rehash_from(s, closed, position)
        counted = recount.count(s, closed.id)
    result = run(engine, closed)
    assert result.chain == []
    assert result.differences and result.sealed_chain
    assert any(e == key for g in counted.answers for e, _, _, _ in counted.rows(g))
