"""What each page of the public board shows (``reports/board.py`` renders it): plain
data for the templates in ``reports/templates/board/``. Every text of the campaign file
or of people is escaped by the templates (autoescape)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from flows import sampling
from flows.campaign import Campaign
from flows.i18n import t
from reports import board_texts  # noqa: F401  (registers the board's words)
from reports import progress as progresses
from reports import rectification as rect
from reports import report, scores
from reports.report import Table, count, rate, score, txt
from reports.results import Tally
from reports.templates import local_time, pct
from storage import draw
from storage import tally as store


def _sep(locale: str) -> str:
    return "、" if locale == "zh" else ", "


# --- campaign ------------------------------------------------------------------------------------
@dataclass
class EvalueeCard:
    key: str
    name: str
    kind: str
    duties: str
    commitments: list[str]


def evaluee_card(campaign: Campaign, key: str, locale: str) -> EvalueeCard:
    e = campaign.evaluee(key)
    tx = lambda v: campaign.text(v, locale).strip()  # noqa: E731
    return EvalueeCard(e.key, tx(e.name), t(f"pub.kind_{e.kind}", locale), tx(e.duties),
                       [c for c in (tx(x) for x in e.commitments) if c])


def categories(campaign: Campaign, locale: str) -> list[tuple[str, list[EvalueeCard]]]:
    return [(campaign.text(c.label, locale), [evaluee_card(campaign, e.key, locale) for e in campaign.evaluees
                                              if e.category == c.key]) for c in campaign.categories]


def groups_table(campaign: Campaign, locale: str) -> Table:
    L = lambda k, **kw: t(k, locale, **kw)  # noqa: E731
    table = Table([L("col.group"), L("col.weight"), L("pub.col_raters"), L("pub.col_rates")])
    for g in campaign.rater_groups:
        if g.open:
            raters = L("pub.sample_open")
        elif g.sample:
            raters = L("pub.sample_unit" if g.rates == "own_unit" else "pub.sample_n", n=g.sample)
        else:
            raters = L("pub.sample_all")
        table.rows.append([txt(campaign.text(g.label, locale)), score(g.weight), txt(raters),
                           txt(L("pub.rates_own" if g.rates == "own_unit" else "pub.rates_all"))])
    return table


def scale_table(campaign: Campaign, locale: str) -> Table:
    L = lambda k: t(k, locale)  # noqa: E731
    table = Table([L("pub.col_level"), L("col.points"), L("pub.col_satisfied")])
    for o in campaign.scale:
        table.rows.append([txt(campaign.text(o.label, locale)), score(o.points),
                           txt(L("pub.yes" if o.satisfied else "pub.no"))])
    return table


def items_table(items: dict[str, float], sign: str, locale: str) -> Table:
    table = Table([t("col.item", locale), t("col.points", locale)])
    for key, points in items.items():
        table.rows.append([txt(report._item_label(key, locale)), txt(f"{sign}{points:g}")])
    return table


def rules(campaign: Campaign, locale: str) -> list[str]:
    most = max(scores.max_democratic(campaign, e.key) for e in campaign.evaluees)
    return [t("rep.rule_rate", locale),
            t("rep.rule_score", locale, democratic=f"{most:g}", daily=f"{campaign.scoring.daily_base:g}"),
            t("rep.rule_groups", locale, min=campaign.min_group_size), t("rep.rule_interval", locale)]


def timetable(session: Session, campaign: Campaign, tally: Tally | None, locale: str) -> Table:
    L = lambda k, **kw: t(k, locale, **kw)  # noqa: E731
    tz = campaign.timezone
    row = draw.get(session, campaign.id)
    table = Table([L("pub.col_step"), L("pub.col_when")])
    if draw.sampled_groups(campaign):
        table.rows.append([txt(L("pub.t_commit")), txt(local_time(row.committed_at, tz) if row else L("pub.not_yet"))])
        table.rows.append([txt(L("pub.t_reveal")), txt(local_time(row.revealed_at, tz) if row and row.revealed_at
                                                        else L("pub.not_yet"))])
    else:
        table.rows.append([txt(L("pub.t_commit")), txt(L("pub.no_draw_step"))])
    r = campaign.rectification
    table.rows += [
        [txt(L("pub.t_opens")), txt(local_time(campaign.opens, tz))],
        [txt(L("pub.t_closes")), txt(local_time(campaign.closes, tz))],
        [txt(L("pub.t_results")), txt(local_time(tally.computed_at, tz) if tally else L("pub.not_yet"))],
        [txt(L("pub.t_rect")), txt(L("pub.t_rect_when", days=r.deadline_days))],
        [txt(L("pub.t_followup")), txt(L("pub.t_followup_when", threshold=pct(r.threshold, 0), rounds=r.max_rounds))],
    ]
    return table


# --- the draw ----------------------------------------------------------------------------------------
@dataclass
class Stratum:
    name: str
    label: str
    sample: int
    pool: list[str]
    rounds: list[list[str]] = field(default_factory=list)


@dataclass
class DrawPage:
    sampled: bool
    committed: bool = False
    commitment: str = ""
    pool_digest: str = ""
    committed_at: str = ""
    procedure: str = sampling.PROCEDURE
    strata: list[Stratum] = field(default_factory=list)
    seed: str | None = None
    revealed_at: str = ""
    withdrawn: list[dict] = field(default_factory=list)
    randomness: dict | None = None
    beacon_value: str | None = None  # the public draw's result as entered at the reveal


def stratum_label(campaign: Campaign, name: str, locale: str) -> str:
    group, _, unit = name.partition("/")
    label = campaign.text(campaign.group(group).label, locale)
    if not unit:
        return label
    unit_name = next((campaign.text(e.name, locale) for e in campaign.evaluees if e.key == unit), unit)
    return f"{label} · {unit_name}"


def public_randomness(row: draw.DrawRow, locale: str) -> dict | None:
    """The public draw named at commit and, after the reveal, its result as entered, in
    canonical form, and the draw seed made from it. None: committed without one."""
    if row.beacon is None:
        return None
    shown = {t("pub.beacon", locale): row.beacon}
    if row.beacon_value is None:
        shown[t("pub.beacon_value", locale)] = t("pub.beacon_pending", locale)
        return shown
    shown[t("pub.beacon_value", locale)] = row.beacon_value
    shown[t("pub.beacon_canonical", locale)] = sampling.canonical_beacon(row.beacon_value)
    shown[t("pub.draw_seed", locale)] = draw.draw_seed(row)
    return shown


def draw_page(session: Session, campaign: Campaign, locale: str) -> DrawPage:
    tz = campaign.timezone
    page = DrawPage(sampled=bool(draw.sampled_groups(campaign)))
    page.withdrawn = [{"commitment": w.commitment, "seed": w.seed, "pool_digest": w.pool_digest,
                       "committed_at": local_time(w.committed_at, tz), "withdrawn_at": local_time(w.withdrawn_at, tz),
                       "reason": w.reason or "", "beacon": w.beacon} for w in draw.withdrawn(session, campaign.id)]
    row = draw.get(session, campaign.id)
    if row is None:
        return page
    pool = draw.pool_file(session, campaign)
    page.committed, page.commitment, page.pool_digest = True, row.commitment, row.pool_digest
    page.committed_at = local_time(row.committed_at, tz)
    page.strata = [Stratum(name, stratum_label(campaign, name, locale), g["sample"], g["pool"])
                   for name, g in pool["groups"].items()]
    page.randomness = public_randomness(row, locale)
    page.beacon_value = row.beacon_value
    if row.revealed_at is not None:
        drawn = draw.drawn_file(session, campaign)["drawn"]
        page.seed, page.revealed_at = row.seed, local_time(row.revealed_at, tz)
        for st in page.strata:
            st.rounds = [r for r in drawn.get(st.name, []) if r]
    return page


# --- progress ---------------------------------------------------------------------------------------
def progress_table(campaign: Campaign, figures: list[progresses.Progress], locale: str) -> Table:
    """Per group: drawn raters who submitted ÷ drawn; an open group's ballots. Nothing else."""
    L = lambda k, **kw: t(k, locale, **kw)  # noqa: E731
    table = Table([L("col.group"), L("pub.col_submitted"), L("pub.col_drawn"), L("pub.col_rate"), L("col.note")])
    for p in figures:
        notes = []
        if p.kind == "open":
            notes.append(L("pub.open_group"))
            row = [count(p.done), txt("—"), txt("—")]
        elif p.of is None:
            notes.append(L("pub.not_drawn"))
            row = [txt("—"), txt("—"), txt("—")]
        else:
            row = [count(p.done), count(p.of), rate(p.rate)]
        if p.after_service:
            notes.append(L("pub.after_service", n=p.after_service))
        table.rows.append([txt(campaign.text(campaign.group(p.group).label, locale)), *row,
                           txt(_sep(locale).join(notes))])
    return table


# --- an evaluee's results -------------------------------------------------------------------------
def voting_lines(campaign: Campaign, tally: Tally, key: str, locale: str) -> list[str]:
    r = tally.evaluees[key]
    label = lambda g: campaign.text(campaign.group(g).label, locale)  # noqa: E731
    voting = [label(g) for g, p in r.groups.items() if p.votes]
    lines = [t("pub.voting", locale, groups=_sep(locale).join(voting) or t("pub.none", locale))]
    if r.not_voting:
        lines.append(t("pub.not_voting", locale, min=campaign.min_group_size,
                       groups=_sep(locale).join(label(g) for g in r.not_voting)))
    return lines


def headline(campaign: Campaign, tally: Tally, key: str, locale: str) -> str:
    r = tally.evaluees[key]
    cat = campaign.text(next(c.label for c in campaign.categories if c.key == r.category), locale)
    if not r.scored:
        from reports.results import no_score

        return f"{cat}{'：' if locale == 'zh' else ': '}{no_score(campaign.min_group_size, locale)}"
    iv = scores.total_interval(campaign, r)
    return t("rep.rank_line", locale, category=cat, rank=r.rank, of=r.of, total=f"{r.total:.2f}",
             low=f"{iv.low:.2f}", high=f"{iv.high:.2f}")


def records_table(session: Session, campaign: Campaign, key: str, locale: str) -> Table:
    """Deductions and bonuses: kind, item, points, whether it counts. The free-text note
    and who recorded it stay with the office (a note may name a complainant)."""
    full = report.records_table(campaign, store.events(session, campaign.id), key, locale)
    return Table(full.head[:4], [row[:4] for row in full.rows])


# --- rectification ---------------------------------------------------------------------------------
@dataclass
class RectSection:
    key: str
    name: str
    lines: list[str]
    plans: Table | None


def rectification(session: Session, campaign: Campaign, locale: str, now) -> list[RectSection]:  # noqa: ANN001
    rows = rect.plan_rows(session, campaign, now)
    out = []
    for b in rect.board(session, campaign, now):
        lines = [t("rep.rect_round", locale, round=b.round, deadline=b.deadline.isoformat(), items=b.items,
                   planned=b.planned, done=b.done, overdue=b.overdue, exempt=b.exempt)]
        lines += [report._followup_line(campaign, rr, locale) for rr in b.rounds]
        plans = report.plans_table(campaign, rows, b.evaluee, locale)
        if not plans.rows:
            lines.append(t("rep.no_plans", locale))
        out.append(RectSection(b.evaluee, campaign.text(campaign.evaluee(b.evaluee).name, locale), lines,
                               plans if plans.rows else None))
    return out
