"""The possible range of a score and the interval of a total, for honest charts and
tables: a whisker never runs past what an evaluee could possibly score."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flows.campaign import Campaign
from reports.results import EvalueeResult
from reports.stats import Z95, mean_interval


def max_points(campaign: Campaign) -> float:
    return max(o.points for o in campaign.scale)


def max_democratic(campaign: Campaign, evaluee_key: str) -> float:
    """The weights of the groups that rate the evaluee (redistribution keeps their sum)
    times the best level's points."""
    e = campaign.evaluee(evaluee_key)
    weight = sum(g.weight for g in campaign.rater_groups if g.rates == "all" or e.own_unit is not None)
    return weight * max_points(campaign) / 100


def max_total(campaign: Campaign, evaluee_key: str) -> float:
    return (max_democratic(campaign, evaluee_key) + campaign.scoring.daily_base
            + max(campaign.scoring.bonus.values(), default=0.0))


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    clipped: bool  # the interval reached past the possible range and was cut there


def total_interval(campaign: Campaign, r: EvalueeResult) -> Interval | None:
    """95% interval of the total: the democratic part varies (each voting group's mean
    points, by its ballots; the groups independent), daily and bonus are records. Cut to
    [daily + bonus, the most the evaluee could score]. None when there is no score."""
    if not r.scored:
        return None
    points = {o.key: o.points for o in campaign.scale}
    var = 0.0
    for part in r.groups.values():
        if not part.votes:
            continue
        per_value: dict[float, int] = {}
        for d in part.dimensions.values():
            for option, n in d.counts.items():
                per_value[points[option]] = per_value.get(points[option], 0) + n
        iv = mean_interval(per_value, part.ballots)
        if iv is None:
            continue
        se = (iv[1] - iv[0]) / (2 * Z95)
        var += (part.effective_weight / 100 * se) ** 2
    half = Z95 * math.sqrt(var)
    floor = r.daily + r.bonus
    ceiling = floor + max_democratic(campaign, r.evaluee)
    low, high = r.total - half, r.total + half
    return Interval(max(low, floor), min(high, ceiling), low < floor or high > ceiling)
