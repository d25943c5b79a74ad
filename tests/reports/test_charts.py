"""Honest charts (issue 13): no whisker past the possible range, heatmap classes that tell
low rates apart with readable text, "no score" instead of 0.00, a trend only with
``previous:``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.campaign import Campaign
from reports import charts, scores
from reports.tally import assemble
from tests.factories import campaign_data

AT = datetime(2027, 1, 1, tzinfo=UTC)


def near_the_top(n_ballots: int = 2, bonus: float = 10.0):
    """Almost everyone 满意 with a few 比较满意: the kind of total whose old whisker ran
    past the maximum (the democratic part scaled by the Wilson upper bound ÷ the mean)."""
    campaign = Campaign.model_validate(campaign_data(
        min_group_size=2, scoring={"daily_base": 20, "bonus": {"national": bonus}},
        rater_groups=[{"key": "recipients", "label": {"zh": "服务对象"}, "weight": 80, "sample": 10}]))
    counts, ballots = {}, {}
    for d in campaign.dimensions:  # transport: all 满意; water: one 基本满意, the rest 满意
        counts[("recipients", "transport", d.key, "satisfied")] = n_ballots
        counts[("recipients", "water", d.key, "satisfied")] = n_ballots - 1
        counts[("recipients", "water", d.key, "basically")] = 1
    ballots = {("recipients", "transport"): n_ballots, ("recipients", "water"): n_ballots}
    events = [type("E", (), {"kind": "bonus", "evaluee_key": "transport", "points": bonus})()]
    return campaign, assemble(campaign, counts, ballots, n_ballots, events, AT)


@pytest.mark.parametrize("n", [2, 3, 5, 40])
def test_no_whisker_passes_the_most_an_evaluee_could_score(n):
    campaign, tally = near_the_top(n)
    rows = charts.ranking_rows(campaign, tally, "gov")
    for r in rows:
        result = tally.evaluees[r.evaluee]
        assert result.daily + result.bonus <= r.low <= r.total <= r.high
        assert r.high <= result.daily + result.bonus + scores.max_democratic(campaign, r.evaluee) + 1e-9
        assert r.high <= scores.max_total(campaign, r.evaluee)
    transport = next(r for r in rows if r.evaluee == "transport")
    assert transport.total == pytest.approx(110.0) and transport.high == pytest.approx(110.0)  # all 满意: no spread
    water = next(r for r in rows if r.evaluee == "water")
    assert water.high > water.total  # an honest interval where answers vary
    chart = charts.ranking(campaign, tally, "gov")
    assert chart.png[:4] == b"\x89PNG" and "110.00 (110.00–110.00)" in chart.alt


def test_heatmap_classes_tell_low_rates_apart_and_text_follows_the_cell():
    assert charts.rate_colour(0.33) != charts.rate_colour(0.44)  # the old floor of 50% made them alike
    assert charts.rate_colour(0.86) != charts.rate_colour(0.93)
    assert charts.text_colour(charts.rate_colour(0.1)) == "white"  # dark red
    assert charts.text_colour(charts.rate_colour(0.97)) == "white"  # dark green
    assert charts.text_colour(charts.rate_colour(0.75)) == "black"  # pale yellow
    assert charts.text_colour("#ffffff") == "black" and charts.text_colour("#000000") == "white"


def test_a_category_without_a_voting_group_says_why_instead_of_zero():
    campaign, tally = near_the_top(1)  # 1 ballot each, min_group_size 2: nobody votes
    assert all(not r.scored and r.rank is None and r.total is None for r in tally.evaluees.values())
    chart = charts.ranking(campaign, tally, "gov")
    assert "无得分：没有评议层面达到 2 份有效评议表" in chart.alt and "0.00" not in chart.alt
    assert "no score: no rater group reached 2 ballots" in charts.ranking(campaign, tally, "gov", "en").alt


def test_the_trend_chart_needs_a_linked_round():
    campaign, tally = near_the_top(3)
    assert "trend" not in [c.name for c in charts.result_charts(campaign, tally)]
    earlier = ("test-2025", {"zh": "2025年度评议"}, {"transport": 80.0, "water": 70.0})
    linked = assemble(campaign, {}, {}, 0, [], AT, [earlier])
    linked_tally = type(tally)(**{**tally.__dict__, "trend": [earlier, *tally.trend]})
    assert [cid for cid, _, _ in linked.trend] == ["test-2025", "test-2026"]
    found = {c.name: c for c in charts.result_charts(campaign, linked_tally)}
    assert "trend" in found and "交通局: 80.00 → 110.00" in found["trend"].alt
