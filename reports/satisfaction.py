"""Satisfaction rates per evaluee and dimension, from sealed ballots.

Satisfaction rate = answers on levels marked ``satisfied`` ÷ valid answers; 不了解
(stored as NULL) is not a valid answer and is left out of every denominator.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from flows.campaign import Campaign
from storage.models import Answer, Ballot


@dataclass(frozen=True)
class Cell:
    evaluee: str
    dimension: str
    satisfied: int
    valid: int
    dont_know: int

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.valid if self.valid else None


def satisfaction_table(session: Session, campaign: Campaign) -> dict[tuple[str, str], Cell]:
    satisfied_keys = {o.key for o in campaign.scale if o.satisfied}
    raw: dict[tuple[str, str], dict[str | None, int]] = {}
    for ev, dim, opt, n in session.exec(
        select(Answer.evaluee_key, Answer.dimension_key, Answer.option_key, func.count())
        .join(Ballot, col(Ballot.id) == col(Answer.ballot_id))
        .where(Ballot.campaign_id == campaign.id)
        .group_by(Answer.evaluee_key, Answer.dimension_key, Answer.option_key)
    ):
        raw.setdefault((ev, dim), {})[opt] = n
    table = {}
    for e in campaign.evaluees:
        for d in campaign.dimensions:
            counts = raw.get((e.key, d.key), {})
            table[(e.key, d.key)] = Cell(
                evaluee=e.key, dimension=d.key,
                satisfied=sum(n for o, n in counts.items() if o in satisfied_keys),
                valid=sum(n for o, n in counts.items() if o is not None),
                dont_know=counts.get(None, 0),
            )
    return table
