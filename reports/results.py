"""The shape of a campaign's results (the tally), shared by reports, digests, exports
and evaluee feedback. Computed by ``reports/tally.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows.i18n import register, t

register({
    "result.no_score": {"zh": "无得分：没有评议层面达到 {min} 份有效评议表",
                        "en": "no score: no rater group reached {min} ballots"},
})


def no_score(min_group_size: int, locale: str) -> str:
    """What every report says in place of a score when no rater group voted."""
    return t("result.no_score", locale, min=min_group_size)


@dataclass(frozen=True)
class DimensionResult:
    """One dimension of one evaluee, for one rater group or all groups pooled."""

    dimension: str
    counts: dict[str, int]  # scale option key -> answers
    dont_know: int
    valid: int  # answers other than 不了解
    satisfied: int  # answers on levels marked ``satisfied``
    rate: float | None  # satisfied / valid; None when valid == 0
    low: float | None  # Wilson 95% interval
    high: float | None
    mean_points: float | None


@dataclass(frozen=True)
class GroupPart:
    """A rater group's part in one evaluee's democratic score."""

    group: str
    ballots: int  # ballots of this group with at least one valid answer for this evaluee
    votes: bool  # ballots >= min_group_size
    weight: float  # as in the campaign file
    effective_weight: float  # after redistribution (0 when not voting)
    mean_points: float | None  # over all valid answers of the group for this evaluee
    score: float  # effective_weight * mean_points / 100 (0 when not voting)
    dimensions: dict[str, DimensionResult]


@dataclass(frozen=True)
class EvalueeResult:
    evaluee: str
    category: str
    groups: dict[str, GroupPart]  # every rater group that rates this evaluee
    dimensions: dict[str, DimensionResult]  # all groups pooled
    # democratic and total are None when no rater group reached min_group_size: such an
    # evaluee has no score and no rank (a report says so instead of showing 0.00).
    democratic: float | None
    daily: float
    bonus: float
    total: float | None
    rank: int | None  # within the category among the scored; ties share a rank
    of: int  # scored evaluees in the category
    previous_total: float | None = None  # trend: this evaluee's total in the linked previous round
    not_voting: list[str] = field(default_factory=list)  # groups below min_group_size

    @property
    def scored(self) -> bool:
        return self.total is not None


@dataclass(frozen=True)
class Tally:
    campaign_id: str
    computed_at: datetime
    ballots: int
    evaluees: dict[str, EvalueeResult]
    # (category, dimension) -> pooled satisfaction rate of the category's evaluees
    category_rates: dict[tuple[str, str], float | None]
    # The rounds linked by ``previous:`` in the campaign files, oldest first, this one last:
    # (campaign id, title, {evaluee: total}). Frozen with the tally at close.
    trend: list[tuple[str, object, dict[str, float | None]]] = field(default_factory=list)
