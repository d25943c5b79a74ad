"""The tally: per evaluee × dimension × rater group counts, satisfaction rates with
Wilson intervals, the 100-point score (democratic + daily + bonus) and rankings.

Sealed campaigns: ``compute`` refuses (``Sealed``) until the campaign is closed with
``minping close`` (``close_campaign``), which computes the tally once and stores it
together with the ballot-chain head it was computed from. ``stored`` returns that.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from flows.campaign import Campaign
from reports.results import DimensionResult, EvalueeResult, GroupPart, Tally
from reports.stats import competition_ranks, wilson
from storage import ballots, campaigns
from storage import tally as store
from storage.models import Answer, Ballot, CampaignRow


class Sealed(Exception):
    """A sealed campaign's results are not available before it is closed."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"campaign '{campaign_id}' is sealed: results are available only after "
                         f"`minping close {campaign_id}`; until then only progress per rater group is shown")
        self.campaign_id = campaign_id


def is_sealed(campaign: Campaign, row: CampaignRow) -> bool:
    """True while results must not be shown (sealed and not yet closed)."""
    return bool(campaign.sealed and not row.closed)


# --- building blocks (pure) ----------------------------------------------------------
def dimension_result(campaign: Campaign, dimension: str, counts: dict[str | None, int]) -> DimensionResult:
    points = {o.key: o.points for o in campaign.scale}
    satisfied_keys = {o.key for o in campaign.scale if o.satisfied}
    valid = sum(n for o, n in counts.items() if o is not None)
    satisfied = sum(n for o, n in counts.items() if o in satisfied_keys)
    low, high = wilson(satisfied, valid)
    mean = sum(points[o] * n for o, n in counts.items() if o is not None) / valid if valid else None
    return DimensionResult(
        dimension=dimension, counts={o.key: counts.get(o.key, 0) for o in campaign.scale},
        dont_know=counts.get(None, 0), valid=valid, satisfied=satisfied,
        rate=satisfied / valid if valid else None, low=low, high=high, mean_points=mean)


def groups_rating(campaign: Campaign, evaluee_key: str) -> list[str]:
    e = campaign.evaluee(evaluee_key)
    return [g.key for g in campaign.rater_groups if g.rates == "all" or e.own_unit is not None]


def assemble(campaign: Campaign, counts: dict[tuple[str, str, str, str | None], int],
             ballots_valid: dict[tuple[str, str], int], ballots: int, events: list,
             computed_at: datetime, earlier: list | None = None) -> Tally:
    """The tally from aggregated counts: (group, evaluee, dimension, option) -> answers,
    (group, evaluee) -> ballots with a valid answer, and the score events. ``earlier``:
    the rounds linked before this one (``linked_rounds``), for the trend."""
    earlier = earlier or []
    previous = earlier[-1][2] if earlier else {}
    deductions: dict[str, float] = defaultdict(float)
    awards: dict[str, list[float]] = defaultdict(list)
    for ev in events:
        if ev.kind == "deduction":
            deductions[ev.evaluee_key] += ev.points
        else:
            awards[ev.evaluee_key].append(ev.points)
    cells: dict[tuple[str, str, str], dict[str | None, int]] = defaultdict(dict)
    for (g, e, d, o), n in counts.items():
        cells[(g, e, d)][o] = n
    partial: dict[str, dict] = {}
    for e in campaign.evaluees:
        rating = groups_rating(campaign, e.key)
        total_weight = sum(campaign.group(g).weight for g in rating)
        voting = [g for g in rating if ballots_valid.get((g, e.key), 0) >= campaign.min_group_size]
        voting_weight = sum(campaign.group(g).weight for g in voting)
        parts: dict[str, GroupPart] = {}
        pooled: dict[str, dict[str | None, int]] = {d.key: defaultdict(int) for d in campaign.dimensions}
        for g in rating:
            dims = {}
            pts = n = 0
            for d in campaign.dimensions:
                c = cells.get((g, e.key, d.key), {})
                for o, k in c.items():
                    pooled[d.key][o] += k
                r = dimension_result(campaign, d.key, c)
                dims[d.key] = r
                if r.valid:
                    pts += r.mean_points * r.valid
                    n += r.valid
            votes = g in voting
            weight = campaign.group(g).weight
            eff = weight * total_weight / voting_weight if votes and voting_weight else 0.0
            mean = pts / n if n else None
            parts[g] = GroupPart(group=g, ballots=ballots_valid.get((g, e.key), 0), votes=votes, weight=weight,
                                 effective_weight=eff, mean_points=mean,
                                 score=eff * mean / 100 if votes and mean is not None else 0.0, dimensions=dims)
        # No voting group: no score at all (not 0.00, which would rank it as the worst).
        democratic = sum(p.score for p in parts.values()) if voting else None
        daily = max(0.0, campaign.scoring.daily_base - deductions[e.key])
        bonus = max(awards[e.key], default=0.0)
        partial[e.key] = dict(
            evaluee=e.key, category=e.category, groups=parts,
            dimensions={d: dimension_result(campaign, d, dict(c)) for d, c in pooled.items()},
            democratic=democratic, daily=daily, bonus=bonus,
            total=None if democratic is None else democratic + daily + bonus,
            not_voting=[g for g in rating if g not in voting],
            previous_total=previous.get(e.key))
    results: dict[str, EvalueeResult] = {}
    for cat in campaign.categories:
        keys = [k for k, p in partial.items() if p["category"] == cat.key]
        scored = [k for k in keys if partial[k]["total"] is not None]
        ranks = dict(zip(scored, competition_ranks([partial[k]["total"] for k in scored]), strict=True))
        for k in keys:
            results[k] = EvalueeResult(rank=ranks.get(k), of=len(scored), **partial[k])
    results = {e.key: results[e.key] for e in campaign.evaluees}
    category_rates: dict[tuple[str, str], float | None] = {}
    for cat in campaign.categories:
        for d in campaign.dimensions:
            rs = [r.dimensions[d.key] for r in results.values() if r.category == cat.key]
            valid = sum(r.valid for r in rs)
            category_rates[(cat.key, d.key)] = sum(r.satisfied for r in rs) / valid if valid else None
    trend = [*earlier, (campaign.id, campaign.title, {k: r.total for k, r in results.items()})]
    return Tally(campaign_id=campaign.id, computed_at=computed_at, ballots=ballots, evaluees=results,
                 category_rates=category_rates, trend=trend)


# --- from the database -------------------------------------------------------------------
# Per ballot, the evaluees it answered validly (an option, not 不了解) as one JSON array
# (a correlated subquery through the answer index), then grouped by rater group and that
# array: a few dozen rows. Cheaper than COUNT(DISTINCT ballot) over a million answers,
# which sorts them (both backends).
_VALID = "SELECT g, evaluees, count(*) FROM (SELECT b.group_key AS g, (SELECT {agg} FROM answer a " \
         "WHERE a.ballot_id = b.id AND a.option_key IS NOT NULL) AS evaluees " \
         "FROM ballot b WHERE b.campaign_id = :cid) AS per_ballot GROUP BY g, evaluees"
_VALID_BY_DIALECT = {
    "sqlite": text(_VALID.format(agg="json_group_array(DISTINCT a.evaluee_key)")),
    "postgresql": text(_VALID.format(agg="coalesce(json_agg(DISTINCT a.evaluee_key)::text, '[]')")),
}


def aggregates(session: Session, campaign_id: str):  # noqa: ANN201
    """SQL aggregates (GROUP BY): (group, evaluee, dimension, option) -> answers,
    (group, evaluee) -> ballots with a valid answer, and the number of ballots."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")  # compiling costs more than it saves here
    counts: dict[tuple[str, str, str, str | None], int] = {}
    for g, e, d, o, n in conn.execute(
        select(Ballot.group_key, Answer.evaluee_key, Answer.dimension_key, Answer.option_key, func.count())
        .join(Ballot, col(Ballot.id) == col(Answer.ballot_id))
        .where(Ballot.campaign_id == campaign_id)
        .group_by(Ballot.group_key, Answer.evaluee_key, Answer.dimension_key, Answer.option_key)
    ):
        counts[(g, e, d, o)] = n
    ballots_valid: dict[tuple[str, str], int] = {}
    query = _VALID_BY_DIALECT.get(conn.dialect.name, _VALID_BY_DIALECT["sqlite"])
    for g, evaluees, n in conn.execute(query, {"cid": campaign_id}):
        for e in json.loads(evaluees):
            ballots_valid[(g, e)] = ballots_valid.get((g, e), 0) + n
    ballots = conn.execute(select(func.count()).select_from(Ballot).where(Ballot.campaign_id == campaign_id)).scalar_one()
    return counts, ballots_valid, ballots


def linked_rounds(session: Session, campaign: Campaign) -> list:
    """The rounds before this one that the organizer linked with ``previous:`` (each
    campaign file names the one before it), oldest first, as their tallies were frozen at
    close: [(campaign id, title, {evaluee: total})]. No link, no trend: an evaluee key
    shared with an unrelated campaign means nothing."""
    if not campaign.previous:
        return []
    saved = store.load(session, campaign.previous)
    if saved is None:  # checked when the file was loaded; never guessed
        return []
    before = from_json(saved.data)
    if before.trend:
        return before.trend
    title = campaigns.get_row(session, campaign.previous).title
    return [(before.campaign_id, title, {k: r.total for k, r in before.evaluees.items()})]


def compute(session: Session, campaign: Campaign, *, allow_sealed: bool = False,
            now: datetime | None = None) -> Tally:
    """The tally from the ballots as they are now. Refuses a sealed campaign before close."""
    row = campaigns.get_row(session, campaign.id)
    if is_sealed(campaign, row) and not allow_sealed:
        raise Sealed(campaign.id)
    counts, ballots_valid, ballots = aggregates(session, campaign.id)
    return assemble(campaign, counts, ballots_valid, ballots, store.events(session, campaign.id),
                    now or datetime.now(UTC), linked_rounds(session, campaign))


def close_campaign(session: Session, campaign: Campaign, now: datetime | None = None) -> Tally:
    """Stop answering, append the ballots still in envelopes to the chain, compute the
    tally and store it with the chain head and count. Call ``storage.ballots.scrub``
    after the commit."""
    now = now or datetime.now(UTC)
    campaigns.close(session, campaign.id)
    ballots.append_envelopes(session, campaign.id)  # every sealed ballot joins the chain
    row = campaigns.get_row(session, campaign.id)
    session.refresh(row)
    result = compute(session, campaign, allow_sealed=True, now=now)
    data = to_json(result)
    # The deductions and bonuses this tally counted, for the verification kit (a record
    # voided or added later does not change the stored tally).
    data["counted_events"] = [{"evaluee": ev.evaluee_key, "kind": ev.kind, "item": ev.item, "points": ev.points}
                              for ev in store.events(session, campaign.id)]
    store.save(session, campaign.id, row.chain_head, row.chain_count, data, now)
    return result


def stored(session: Session, campaign_id: str) -> Tally | None:
    """The tally stored at close (None before close)."""
    row = store.load(session, campaign_id)
    return from_json(row.data) if row is not None else None


def results(session: Session, campaign: Campaign, now: datetime | None = None) -> Tally:
    """What may be shown: the stored tally once closed, a live one for an unsealed open
    campaign; ``Sealed`` otherwise."""
    row = campaigns.get_row(session, campaign.id)
    if row.closed:
        t = stored(session, campaign.id)
        if t is not None:
            return t
    return compute(session, campaign, now=now)


# --- JSON ---------------------------------------------------------------------------------
def to_json(t: Tally) -> dict:
    d = asdict(t)
    d["computed_at"] = t.computed_at.isoformat()
    d["category_rates"] = [[c, dim, r] for (c, dim), r in t.category_rates.items()]
    d["trend"] = [[cid, title, totals] for cid, title, totals in t.trend]
    return d


def from_json(d: dict) -> Tally:
    def dim(x: dict) -> DimensionResult:
        return DimensionResult(**x)

    evaluees = {}
    for k, e in d["evaluees"].items():
        groups = {g: GroupPart(**{**p, "dimensions": {dk: dim(dv) for dk, dv in p["dimensions"].items()}})
                  for g, p in e["groups"].items()}
        evaluees[k] = EvalueeResult(**{**e, "groups": groups,
                                       "dimensions": {dk: dim(dv) for dk, dv in e["dimensions"].items()}})
    return Tally(campaign_id=d["campaign_id"], computed_at=datetime.fromisoformat(d["computed_at"]),
                 ballots=d["ballots"], evaluees=evaluees,
                 category_rates={(c, dm): r for c, dm, r in d["category_rates"]},
                 trend=[(cid, title, totals) for cid, title, totals in d.get("trend", [])])


def rounds(t: Tally) -> list[tuple[str, object, dict[str, float | None]]]:
    """The trend of a tally: the linked rounds and this one (see ``linked_rounds``)."""
    return list(t.trend)
