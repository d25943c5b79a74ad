"""An independent recount for ``minping verify``.

It reads the raw ballot rows one by one (no SQL aggregate, nothing shared with
``reports/tally.py`` beyond the campaign model and the result shape) and rebuilds every
published figure in plain loops, then lists each figure that differs from the stored
tally. Two code paths agreeing is the software form of 分组封闭汇总、互相校对.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session

from flows.campaign import Campaign
from reports.results import Tally
from storage import ballots
from storage import tally as store

Z = 1.959963984540054
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Difference:
    where: str
    published: object
    recounted: object

    def __str__(self) -> str:
        return f"{self.where}: published {self.published!r}, recounted {self.recounted!r}"


def _wilson(k: int, n: int) -> tuple[float | None, float | None]:
    # The closed form (2k + z² ± z·sqrt(z² + 4k(n−k)/n)) / (2(n + z²)): the same interval
    # as reports.stats.wilson, written independently.
    if n == 0:
        return None, None
    root = Z * math.sqrt(Z * Z + 4 * k * (n - k) / n)
    lo = (2 * k + Z * Z - root) / (2 * (n + Z * Z))
    hi = (2 * k + Z * Z + root) / (2 * (n + Z * Z))
    return max(lo, 0.0), min(hi, 1.0)


class Counted:
    """The recount's own counts, taken ballot by ballot from the rows the chain walk just
    hashed (``storage.ballots.verify_chain(..., visit=counted.add)``), each row the JSON
    text of [evaluee, dimension, option]: plain Python counting, nothing from SQL
    aggregates. Each distinct text is parsed once."""

    def __init__(self) -> None:
        self.ballots = 0
        self.answers: dict[str, Counter] = {}  # group -> row text -> answers
        self.valid: dict[str, Counter] = {}  # group -> evaluee -> ballots with a valid answer
        self._evaluee = _ValidEvaluee()

    def add(self, group: str, answers: list[str]) -> None:
        self.ballots += 1
        per = self.answers.get(group)
        if per is None:
            per = self.answers[group] = Counter()
            self.valid[group] = Counter()
        per.update(answers)
        valid = self.valid[group]
        for e in set(map(self._evaluee.__getitem__, answers)):
            valid[e] += 1
        valid.pop(None, None)

    def rows(self, group: str) -> Iterator[tuple[str, str, str | None, int]]:
        """(evaluee, dimension, option, answers) of a group."""
        for row, n in self.answers.get(group, {}).items():
            e, d, o = json.loads(row)
            yield e, d, o, n


class _ValidEvaluee(dict):
    """Row text -> its evaluee when it has an option (not 不了解), else None."""

    def __missing__(self, row: str) -> str | None:
        e, _, o = json.loads(row)
        self[row] = value = e if o is not None else None
        return value


def count(session: Session, campaign_id: str) -> Counted:
    counted = Counted()
    ballots.verify_chain(session, campaign_id, visit=counted.add)
    return counted


def recount(session: Session, campaign: Campaign, counted: Counted | None = None) -> dict:
    """Every figure of the tally, recomputed from the raw rows, as nested dicts."""
    counted = counted or count(session, campaign.id)
    points = {o.key: o.points for o in campaign.scale}
    good = {o.key for o in campaign.scale if o.satisfied}
    # (evaluee, group) -> [ballots with a valid answer, {dimension: {option: answers}}]
    seen: dict[tuple[str, str], list] = {}
    for group in counted.answers:
        for ev, dim, opt, n in counted.rows(group):
            cell = seen.get((ev, group))
            if cell is None:
                cell = seen[(ev, group)] = [counted.valid[group][ev], {}]
            per_option = cell[1].setdefault(dim, {})
            per_option[opt] = per_option.get(opt, 0) + n
    empty = [0, {}]

    def figures(per_option: dict) -> dict:
        valid = sum(n for o, n in per_option.items() if o is not None)
        sat = sum(n for o, n in per_option.items() if o in good)
        lo, hi = _wilson(sat, valid)
        return {"counts": {o.key: per_option.get(o.key, 0) for o in campaign.scale},
                "dont_know": per_option.get(None, 0), "valid": valid, "satisfied": sat,
                "rate": sat / valid if valid else None, "low": lo, "high": hi,
                "mean_points": sum(points[o] * n for o, n in per_option.items() if o is not None) / valid
                if valid else None}

    events = store.events(session, campaign.id)
    out: dict = {"ballots": counted.ballots, "evaluees": {}}
    for e in campaign.evaluees:
        groups = [g for g in campaign.rater_groups if g.rates == "all" or e.own_unit is not None]
        full = sum(g.weight for g in groups)
        voters = [g for g in groups if seen.get((e.key, g.key), empty)[0] >= campaign.min_group_size]
        share = sum(g.weight for g in voters)
        parts = {}
        pooled: dict[str, dict] = {d.key: {} for d in campaign.dimensions}
        for g in groups:
            n_ballots, per_dim = seen.get((e.key, g.key), empty)
            total_points = n_valid = 0
            for d, per_option in per_dim.items():
                for o, n in per_option.items():
                    pooled.setdefault(d, {})[o] = pooled.setdefault(d, {}).get(o, 0) + n
                    if o is not None:
                        total_points += points[o] * n
                        n_valid += n
            mean = total_points / n_valid if n_valid else None
            votes = g in voters
            eff = g.weight / share * full if votes else 0.0
            parts[g.key] = {"ballots": n_ballots, "votes": votes, "effective_weight": eff, "mean_points": mean,
                            "score": eff * mean / 100 if votes and mean is not None else 0.0,
                            "dimensions": {d.key: figures(per_dim.get(d.key, {})) for d in campaign.dimensions}}
        taken = sum(x.points for x in events if x.evaluee_key == e.key and x.kind == "deduction")
        awards = [x.points for x in events if x.evaluee_key == e.key and x.kind == "bonus"]
        democratic = sum(p["score"] for p in parts.values()) if voters else None  # nobody voted: no score
        daily = campaign.scoring.daily_base - taken
        if daily < 0:
            daily = 0.0
        bonus = max(awards) if awards else 0.0
        out["evaluees"][e.key] = {"category": e.category, "groups": parts,
                                  "dimensions": {d.key: figures(pooled[d.key]) for d in campaign.dimensions},
                                  "democratic": democratic, "daily": daily, "bonus": bonus,
                                  "total": None if democratic is None else democratic + daily + bonus}
    for cat in campaign.categories:
        members = [k for k, v in out["evaluees"].items() if v["category"] == cat.key and v["total"] is not None]
        for k, v in out["evaluees"].items():
            if v["category"] != cat.key:
                continue
            if v["total"] is None:
                v["rank"] = None
                continue
            mine = round(v["total"], 2)
            v["rank"] = 1 + len([m for m in members if round(out["evaluees"][m]["total"], 2) > mine])
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def compare(published: Tally, recounted: dict) -> list[Difference]:
    diffs: list[Difference] = []

    def check(where: str, a: object, b: object) -> None:
        if not _same(a, b):
            diffs.append(Difference(where, a, b))

    check("ballots", published.ballots, recounted["ballots"])
    for key, r in recounted["evaluees"].items():
        p = published.evaluees.get(key)
        if p is None:
            diffs.append(Difference(key, None, "evaluee"))
            continue
        for name in ("democratic", "daily", "bonus", "total", "rank"):
            check(f"{key} {name}", getattr(p, name), r[name])
        for g, rg in r["groups"].items():
            pg = p.groups.get(g)
            if pg is None:
                diffs.append(Difference(f"{key}/{g}", None, "group"))
                continue
            for name in ("ballots", "votes", "effective_weight", "mean_points", "score"):
                check(f"{key}/{g} {name}", getattr(pg, name), rg[name])
            for d, rd in rg["dimensions"].items():
                _dims(check, f"{key}/{g}/{d}", pg.dimensions.get(d), rd)
        for d, rd in r["dimensions"].items():
            _dims(check, f"{key}/all/{d}", p.dimensions.get(d), rd)
    return diffs


def _dims(check, where: str, pd, rd: dict) -> None:  # noqa: ANN001
    if pd is None:
        check(where, None, "dimension")
        return
    for name in ("dont_know", "valid", "satisfied", "rate", "low", "high", "mean_points"):
        check(f"{where} {name}", getattr(pd, name), rd[name])
    for opt, n in rd["counts"].items():
        check(f"{where} count[{opt}]", pd.counts.get(opt, 0), n)
