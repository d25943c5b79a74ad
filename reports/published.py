"""The published figures: what a public board shows of a closed campaign, and what the
verification kit's ``published.json`` holds (``verify_kit.py`` recomputes every one).

Built from the tally stored at close, under the ``min_group_size`` rule: a rater group
with fewer ballots with a valid answer than ``min_group_size`` for an evaluee does not
vote for it, and none of its figures is published (not even its number of ballots).
Pooled figures (an evaluee's dimension rates, a category's rates) pool the voting groups
only, so that no small group's answers can be had by subtracting published figures.
Opinions are never published. Follow-up rates of rectification rounds are published
once the survey is closed, and only with at least ``min_group_size`` valid answers.

Figures are plain JSON: floats unrounded (a page rounds them for display), ``null``
where there is no figure.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from flows.campaign import Campaign
from reports import tally
from reports.results import Tally
from reports.stats import wilson
from storage import rectification as rs

PUBLISHED_VERSION = 1


def rate(satisfied: int, valid: int) -> dict:
    """A satisfaction rate with its Wilson 95% interval."""
    low, high = wilson(satisfied, valid)
    return {"valid": valid, "satisfied": satisfied, "rate": satisfied / valid if valid else None,
            "low": low, "high": high}


def figures(campaign: Campaign, result: Tally, followups: list[dict] | None = None) -> dict:
    """The published figures of a closed campaign. ``followups``: closed follow-up
    surveys, ``{"evaluee", "round", "valid", "satisfied"}`` each."""
    min_size = campaign.min_group_size
    evaluees: dict[str, dict] = {}
    for e in campaign.evaluees:
        r = result.evaluees[e.key]
        groups = {}
        pooled: dict[str, list[int]] = {d.key: [0, 0] for d in campaign.dimensions}
        for g, part in r.groups.items():
            if not part.votes:
                groups[g] = {"votes": False, "weight": part.weight}
                continue
            dims = {}
            for d in campaign.dimensions:
                dr = part.dimensions[d.key]
                dims[d.key] = rate(dr.satisfied, dr.valid)
                pooled[d.key][0] += dr.satisfied
                pooled[d.key][1] += dr.valid
            groups[g] = {"votes": True, "weight": part.weight, "effective_weight": part.effective_weight,
                         "ballots": part.ballots, "mean_points": part.mean_points, "score": part.score,
                         "dimensions": dims}
        evaluees[e.key] = {
            "category": e.category, "scored": r.scored, "rank": r.rank, "of": r.of,
            "total": r.total, "democratic": r.democratic, "daily": r.daily, "bonus": r.bonus,
            "groups": groups,
            "dimensions": {d: rate(s, v) for d, (s, v) in pooled.items()} if r.scored else {},
        }
    categories = {}
    for cat in campaign.categories:
        members = [k for k, v in evaluees.items() if v["category"] == cat.key]
        ranked = sorted((k for k in members if evaluees[k]["scored"]), key=lambda k: evaluees[k]["rank"])
        rates = {}
        for d in campaign.dimensions:
            s = sum(evaluees[k]["dimensions"][d.key]["satisfied"] for k in ranked)
            v = sum(evaluees[k]["dimensions"][d.key]["valid"] for k in ranked)
            rates[d.key] = rate(s, v)
        categories[cat.key] = {"ranking": ranked, "not_scored": [k for k in members if k not in ranked],
                               "rates": rates}
    rounds = []
    for f in sorted(followups or [], key=lambda f: (f["evaluee"], f["round"])):
        shown = f["valid"] >= min_size
        rounds.append({"evaluee": f["evaluee"], "round": f["round"], "published": shown,
                       **(rate(f["satisfied"], f["valid"]) if shown else {})})
    return {"version": PUBLISHED_VERSION, "campaign": campaign.id, "min_group_size": min_size,
            "ballots": result.ballots, "evaluees": evaluees, "categories": categories, "followup": rounds}


def closed_followups(session: Session, campaign_id: str) -> list[dict]:
    """The closed follow-up surveys of the campaign's rectification rounds."""
    rounds = session.exec(select(rs.RectRound).where(rs.RectRound.campaign_id == campaign_id,
                                                     col(rs.RectRound.survey_closed_at).is_not(None))
                          .order_by(rs.RectRound.id))
    return [{"evaluee": r.evaluee_key, "round": r.number, "valid": r.valid or 0, "satisfied": r.satisfied or 0}
            for r in rounds]


def published(session: Session, campaign: Campaign) -> dict | None:
    """The published figures of a closed campaign; None before close (nothing is
    published of a campaign before its tally is stored)."""
    result = tally.stored(session, campaign.id)
    if result is None:
        return None
    return figures(campaign, result, closed_followups(session, campaign.id))
