"""The tally of the hand-worked campaign (tests/reports/handworked.py), figure by figure.

Points: 满意 100, 比较满意 80, 基本满意 60, 不满意 0; min_group_size 2; weights
recipients 35, staff 15 (own unit), public 10: 60 in all.

交通局 transport
  recipients, 4 ballots: style S S F D -> valid 4, satisfied 3, 75.00%, mean 70;
      efficiency S F B 不了解 -> valid 3, satisfied 2, 66.67%, mean 80;
      group mean over its 7 valid answers = 520/7 = 74.29
  staff, 1 ballot (< 2): does not vote
  public, 2 ballots: style F B -> 50.00%; efficiency F 不了解 -> 100%; mean 220/3 = 73.33
  voting weight 45 of 60: recipients 35*60/45 = 46.67 -> score 46.67*74.29/100 = 34.67,
      public 10*60/45 = 13.33 -> 13.33*73.33/100 = 9.78; democratic 44.44
  deductions 5+10+10 = 25 > 20: daily 0 (floor); awards county 1, province 5: bonus 5
  total 49.44, rank 3 of 3
水利局 water: recipients all 满意 (mean 100), staff 2 x 比较满意 (mean 80), public all
  不了解 (0 ballots: does not vote); weights 35*60/50 = 42 and 15*60/50 = 18 ->
  42 + 14.4 = 56.4; daily 20-5 = 15, bonus 0 -> total 71.40
财政局 finance: the same ballots -> 56.4; daily 20-10 = 10, bonus 5 -> 71.40: tied with
  water, both rank 1 (and transport is 3rd, not 2nd)
"""

from __future__ import annotations

from datetime import datetime

import pytest
from statsmodels.stats.proportion import proportion_confint

from flows.campaign import Campaign
from reports import tally
from storage import campaigns
from storage import tally as store
from storage.db import session_scope
from tests.reports.handworked import handworked_data, load_handworked


def r2(x):
    return round(x, 2)


@pytest.fixture
def result(engine):
    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        return tally.close_campaign(s, campaign)


def test_rates_counts_and_dont_know(result):
    t = result.evaluees["transport"]
    style = t.groups["recipients"].dimensions["style"]
    assert style.counts == {"satisfied": 2, "fairly": 1, "basically": 0, "dissatisfied": 1}
    assert (style.valid, style.satisfied, r2(style.rate), r2(style.mean_points)) == (4, 3, 0.75, 70.0)
    eff = t.groups["recipients"].dimensions["efficiency"]
    assert (eff.valid, eff.dont_know, eff.satisfied, r2(eff.rate), r2(eff.mean_points)) == (3, 1, 2, 0.67, 80.0)
    public = t.groups["public"].dimensions
    assert (r2(public["style"].rate), r2(public["efficiency"].rate), public["efficiency"].valid) == (0.5, 1.0, 1)
    pooled = t.dimensions["style"]
    assert (pooled.valid, pooled.satisfied, r2(pooled.rate)) == (7, 5, 0.71)
    assert result.ballots == 11
    assert r2(result.category_rates[("gov", "style")]) == 0.89  # 17/19
    assert r2(result.category_rates[("gov", "efficiency")]) == 0.94  # 16/17


@pytest.mark.parametrize("group,dim,k,n", [("recipients", "style", 3, 4), ("recipients", "efficiency", 2, 3),
                                           ("public", "style", 1, 2), ("public", "efficiency", 1, 1)])
def test_wilson_intervals_match_statsmodels(result, group, dim, k, n):
    d = result.evaluees["transport"].groups[group].dimensions[dim]
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert (r2(d.low), r2(d.high)) == (r2(low), r2(high))
    assert d.low == pytest.approx(low, abs=1e-12) and d.high == pytest.approx(high, abs=1e-12)


def test_wilson_by_hand():
    # 3 of 4: centre (0.75 + 1.9208/4)/(1 + 3.8415/4) = 0.6281, half 0.4343 -> [0.30, 0.95]
    d = tally.dimension_result(Campaign.model_validate(handworked_data()), "style",
                               {"satisfied": 2, "fairly": 1, "dissatisfied": 1})
    assert (r2(d.low), r2(d.high)) == (0.30, 0.95)


def test_group_scores_and_redistribution(result):
    t = result.evaluees["transport"]
    rec, staff, public = t.groups["recipients"], t.groups["staff"], t.groups["public"]
    assert (rec.ballots, rec.votes, r2(rec.mean_points), r2(rec.effective_weight), r2(rec.score)) == \
        (4, True, 74.29, 46.67, 34.67)
    assert (staff.ballots, staff.votes, staff.effective_weight, staff.score) == (1, False, 0.0, 0.0)
    assert (public.ballots, r2(public.mean_points), r2(public.effective_weight), r2(public.score)) == \
        (2, 73.33, 13.33, 9.78)
    assert t.not_voting == ["staff"]
    assert r2(t.democratic) == 44.44
    water = result.evaluees["water"]
    assert water.not_voting == ["public"] and water.groups["public"].ballots == 0
    assert (r2(water.groups["recipients"].effective_weight), r2(water.groups["staff"].effective_weight)) == (42, 18)
    assert r2(water.democratic) == 56.40


def test_daily_floor_highest_bonus_totals_and_tied_ranks(result):
    t, w, f = (result.evaluees[k] for k in ("transport", "water", "finance"))
    assert (t.daily, t.bonus, r2(t.total)) == (0.0, 5.0, 49.44)
    assert (w.daily, w.bonus, r2(w.total)) == (15.0, 0.0, 71.40)
    assert (f.daily, f.bonus, r2(f.total)) == (10.0, 5.0, 71.40)
    assert (w.rank, f.rank, t.rank) == (1, 1, 3)
    assert {e.of for e in (t, w, f)} == {3}


def test_the_stored_tally_is_the_computed_one(engine, result):
    with session_scope(engine) as s:
        again = tally.stored(s, "test-2026")
        row = campaigns.get_row(s, "test-2026")
        saved = store.load(s, "test-2026")
        assert row.closed and (saved.chain_count, saved.chain_head) == (11, row.chain_head)
    assert again == result


def test_sealed_open_campaign_refuses_to_compute(engine):
    campaign = load_handworked(engine)
    with session_scope(engine) as s:
        with pytest.raises(tally.Sealed):
            tally.compute(s, campaign)
        with pytest.raises(tally.Sealed):
            tally.results(s, campaign)
        assert tally.stored(s, campaign.id) is None


def test_unsealed_open_campaign_has_live_results(engine):
    campaign = load_handworked(engine, sealed=False)
    with session_scope(engine) as s:
        assert r2(tally.results(s, campaign).evaluees["water"].total) == 71.40


def test_trend_only_with_previous(engine):
    """A shared evaluee key is not a link: only ``previous:`` makes a trend, and the totals
    compared are those frozen when the previous round closed."""
    earlier = load_handworked(engine, id="test-2025", opens=datetime(2025, 1, 1), closes=datetime(2025, 12, 1))
    with session_scope(engine) as s:
        tally.close_campaign(s, earlier)
    unrelated = load_handworked(engine, events=False, id="city-2026")
    linked = load_handworked(engine, events=False, id="test-2026", previous="test-2025")
    with session_scope(engine) as s:
        alone = tally.close_campaign(s, unrelated)
        now = tally.close_campaign(s, linked)
    assert all(r.previous_total is None for r in alone.evaluees.values())
    assert [cid for cid, _, _ in alone.trend] == ["city-2026"]
    # this round: no deductions or awards -> daily 20 each
    assert r2(now.evaluees["transport"].previous_total) == 49.44
    assert r2(now.evaluees["water"].previous_total) == 71.40
    assert r2(now.evaluees["water"].total) == 76.40
    assert [cid for cid, _, _ in now.trend] == ["test-2025", "test-2026"]
    assert r2(now.trend[0][2]["transport"]) == 49.44


def test_a_third_round_carries_the_whole_chain(engine):
    first = load_handworked(engine, id="r1")
    with session_scope(engine) as s:
        tally.close_campaign(s, first)
    second = load_handworked(engine, events=False, id="r2", previous="r1")
    with session_scope(engine) as s:
        tally.close_campaign(s, second)
    third = load_handworked(engine, events=False, id="r3", previous="r2")
    with session_scope(engine) as s:
        t = tally.close_campaign(s, third)
        assert [cid for cid, _, _ in tally.stored(s, "r3").trend] == ["r1", "r2", "r3"]
    assert r2(t.evaluees["transport"].previous_total) == r2(t.trend[1][2]["transport"])


def test_previous_is_checked_when_the_file_is_loaded(engine):
    other = Campaign.model_validate(handworked_data(id="other", evaluees=[
        {"key": "police", "name": "公安局", "category": "gov"}]))
    open_one = Campaign.model_validate(handworked_data(id="open-one"))
    with session_scope(engine) as s:
        campaigns.store_campaign(s, other, "")
        campaigns.store_campaign(s, open_one, "")
        tally.close_campaign(s, other)
    for previous, words in [("nope", "no campaign 'nope' is loaded"), ("open-one", "is not closed yet"),
                            ("other", "shares no evaluee key")]:
        campaign = Campaign.model_validate(handworked_data(previous=previous))
        with session_scope(engine) as s, pytest.raises(campaigns.BadPrevious, match=words):
            campaigns.store_campaign(s, campaign, "")
        with session_scope(engine) as s:
            assert campaigns.list_ids(s) == ["open-one", "other"]  # nothing stored


def test_a_closed_report_does_not_change_when_another_campaign_closes(engine):
    first = load_handworked(engine, id="a-2026")
    with session_scope(engine) as s:
        tally.close_campaign(s, first)
        before = dict(store.load(s, "a-2026").data)
    later = load_handworked(engine, events=False, id="b-2026", previous="a-2026")
    with session_scope(engine) as s:
        tally.close_campaign(s, later)
    with session_scope(engine) as s:
        assert store.load(s, "a-2026").data == before
        assert tally.results(s, first).trend == tally.from_json(before).trend


def test_record_refuses_unknown_kind_item_and_evaluee(engine):
    campaign = load_handworked(engine, events=False)
    with session_scope(engine) as s:
        for args, words in [(("nope", "deduction", "complaint"), "no evaluee 'nope'"),
                            (("water", "deduction", "murder"), "not a deduction"),
                            (("water", "award", "county"), "kind must be")]:
            with pytest.raises(store.UnknownItem, match=words):
                store.record_event(s, campaign, *args, recorded_by="x")
        ev = store.record_event(s, campaign, "water", "bonus", "city", recorded_by="王", note="市级表彰")
        assert (ev.points, ev.recorded_by, ev.note) == (2.0, "王", "市级表彰") and ev.recorded_at is not None
