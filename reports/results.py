"""The shape of a campaign's results (the tally), shared by reports, digests, exports
and evaluee feedback. Computed by ``reports/tally.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    democratic: float
    daily: float
    bonus: float
    total: float
    rank: int  # within the category; ties share a rank
    of: int  # evaluees in the category
    previous_total: float | None = None  # trend: the previous campaign sharing this key
    not_voting: list[str] = field(default_factory=list)  # groups below min_group_size


@dataclass(frozen=True)
class Tally:
    campaign_id: str
    computed_at: datetime
    ballots: int
    evaluees: dict[str, EvalueeResult]
    # (category, dimension) -> pooled satisfaction rate of the category's evaluees
    category_rates: dict[tuple[str, str], float | None]
