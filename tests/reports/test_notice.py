"""The notice's anonymity rule on hand-made tallies: only groups with at least
``min_group_size`` ballots appear, in every figure, and the pooled rates are the sum of
the shown groups, so a small group can never be subtracted out."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flows.campaign import Campaign
from reports.notice import notice_messages, visible
from reports.tally import assemble
from tests.factories import campaign_data

CAMPAIGN = Campaign.model_validate(campaign_data(min_group_size=3))


def tally(recipients: tuple[int, int], staff: tuple[int, int]):
    """(satisfied, dissatisfied) ballots per group for transport, on every dimension."""
    counts, ballots = {}, {}
    for group, (sat, dis) in (("recipients", recipients), ("staff", staff)):
        for d in CAMPAIGN.dimensions:
            counts[(group, "transport", d.key, "satisfied")] = sat
            counts[(group, "transport", d.key, "dissatisfied")] = dis
        ballots[(group, "transport")] = sat + dis
    return assemble(CAMPAIGN, counts, ballots, sum(recipients) + sum(staff), [], datetime(2027, 1, 1, tzinfo=UTC))


def text(t) -> str:
    msgs = notice_messages(CAMPAIGN, t.evaluees["transport"], t.evaluees, [(1, "意见")], date(2027, 2, 1),
                           "zh", "Rm1.")
    return "\n".join(m.text for m in msgs)


def test_all_groups_large_enough_show_the_breakdown_and_it_sums():
    t = tally((4, 2), (1, 2))
    shown = text(t)
    assert "服务对象（6 份）：工作作风 66.7%" in shown and "所在单位（3 份）：工作作风 33.3%" in shown
    assert "工作作风：55.6%（有效 9" in shown  # (4 + 1) / 9


def test_a_small_group_is_in_no_figure_not_even_the_pooled_one():
    t = tally((4, 2), (1, 1))  # staff: 2 ballots < 3
    shown = text(t)
    assert "所在单位" not in shown and "分评议层面满意度" not in shown
    assert "工作作风：66.7%（有效 6" in shown  # recipients only; with staff it would be 5/8 = 62.5%
    assert "62.5%" not in shown and "有效 8" not in shown
    assert visible(CAMPAIGN, t.evaluees["transport"]).groups == ["recipients"]
    # The same rule sentence whether or not a group was left out.
    assert "不足 3 份的层面不单列" in shown and "不足 3 份的层面不单列" in text(tally((4, 2), (1, 2)))


def test_no_group_large_enough_shows_no_rates_and_no_score():
    shown = text(tally((1, 1), (1, 0)))
    assert "太少" in shown and not re.search(r"\d+\.\d%", shown.split("说明")[0])
    # No 0.00 and no rank: the notice says why there is no score.
    assert "无得分：没有评议层面达到 3 份有效评议表，不参加排名" in shown
    assert "总分" not in shown and "排第" not in shown and "0.00（" not in shown
