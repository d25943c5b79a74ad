"""The tally as the public may read it (the public board, ``reports/board.py``).

The anonymity rule of the evaluee notice (``reports.notice.visible``), applied to every
figure: a rater group with fewer than ``min_group_size`` ballots for an evaluee is in no
figure at all. Its per-group figures are blanked, and the pooled satisfaction rates,
intervals, answer counts and category averages are recomputed from the voting groups
only, so nothing can be subtracted out of a pooled figure. Scores, ranks and intervals of
totals already come from the voting groups alone and stay as they are.

The result is an ordinary ``Tally``: the report's tables (``reports.report``) and the
charts (``reports.charts``) draw it unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from flows.campaign import Campaign
from reports.results import DimensionResult, EvalueeResult, GroupPart, Tally
from reports.tally import dimension_result


def _pooled(campaign: Campaign, parts: list[GroupPart], dimension: str) -> DimensionResult:
    counts: dict[str | None, int] = {}
    for p in parts:
        d = p.dimensions.get(dimension)
        if d is None:
            continue
        for option, n in d.counts.items():
            counts[option] = counts.get(option, 0) + n
        counts[None] = counts.get(None, 0) + d.dont_know
    return dimension_result(campaign, dimension, counts)


def _blank(campaign: Campaign, part: GroupPart) -> GroupPart:
    """A group too small to hide in: named, never counted or described."""
    empty = {d.key: dimension_result(campaign, d.key, {}) for d in campaign.dimensions}
    return replace(part, ballots=0, mean_points=None, score=0.0, effective_weight=0.0, dimensions=empty)


def evaluee(campaign: Campaign, r: EvalueeResult) -> EvalueeResult:
    voting = [p for p in r.groups.values() if p.votes]
    groups = {k: (p if p.votes else _blank(campaign, p)) for k, p in r.groups.items()}
    dims = {d.key: _pooled(campaign, voting, d.key) for d in campaign.dimensions}
    return replace(r, groups=groups, dimensions=dims)


def tally(campaign: Campaign, t: Tally) -> Tally:
    evaluees = {k: evaluee(campaign, r) for k, r in t.evaluees.items()}
    rates: dict[tuple[str, str], float | None] = {}
    for c in campaign.categories:
        for d in campaign.dimensions:
            rs = [r.dimensions[d.key] for r in evaluees.values() if r.category == c.key]
            valid = sum(x.valid for x in rs)
            rates[(c.key, d.key)] = sum(x.satisfied for x in rs) / valid if valid else None
    return replace(t, evaluees=evaluees, category_rates=rates)
