"""The results report for people (评议结果通报): what an evaluation office circulates.

One model (``build``) feeds every format, so the html, the xlsx and the csv carry the same
figures under the same headers, in the report's language (zh by default, en):

* a ranking table per category (rank, total with its 95% interval, the parts, the
  satisfaction rate, the previous round's total where ``previous:`` links one);
* then one section per evaluee: the score parts per rater group (the groups that voted,
  and why the others did not), satisfaction per dimension with its interval, the
  deduction and bonus records with their reasons, the rectification plans and their
  state, the follow-up rates;
* the charts (html), times in the campaign's time zone.

Scores come from the tally stored at close (frozen: a published report does not change
when anything else does); rectification is as it stands at ``now``.

The anonymity rule holds here too: figures per rater group appear only for the groups
that vote (at least ``min_group_size`` ballots for the evaluee); a smaller group is named
with the reason it does not vote, never with its figures or its count; follow-up rates
only from ``min_group_size`` valid answers. Opinions are only in the xlsx (scrubbed, in
random order, no group, no ballot id), for the office, never in the html.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session

from flows import rectification as rf
from flows.campaign import Campaign
from flows.i18n import register, t
from reports import progress, scores
from reports import notice as notices
from reports import rectification as rect
from reports.results import EvalueeResult, Tally, no_score
from reports.stats import wilson
from reports.templates import local_time, num, pct
from storage import ballots
from storage import rectification as rs
from storage import tally as store

register({
    "rep.heading": {"zh": "评议结果通报", "en": "Results report"},
    "rep.period": {"zh": "评议时间：{opens} 至 {closes}（{tz}）", "en": "Evaluation period: {opens} to {closes} ({tz})"},
    "rep.computed": {"zh": "统计时间：{at}；有效评议表 {n} 份", "en": "Counted {at}; {n} ballots"},
    "rep.live": {"zh": "评议尚未结束：以下为实时结果，结束后以最终统计为准。",
                 "en": "The evaluation is still open: live figures, final only after close."},
    "rep.printed": {"zh": "本报告生成于 {at}", "en": "Report made {at}"},
    "rep.contents": {"zh": "目录", "en": "Contents"},
    "rep.rules": {"zh": "计分说明", "en": "How the scores are made"},
    "rep.rule_rate": {"zh": "满意率 =（满意 + 比较满意）÷ 有效答案（“不了解”不计入），区间为 Wilson 95% 置信区间。",
                      "en": "Satisfaction = (satisfied + fairly satisfied) ÷ valid answers (\"don't know\" excluded); "
                            "intervals are Wilson 95%."},
    "rep.rule_score": {"zh": "总分 = 民主评议（{democratic} 分）+ 日常考核（{daily} 分，按记录扣分，扣完为止）+ 加分（只计最高一项）。"
                             "各评议层面得分 = 实际权重 × 平均分 ÷ 100。",
                       "en": "Total = democratic evaluation ({democratic}) + daily assessment ({daily}, less the recorded "
                             "deductions, floor 0) + bonus (highest award only). A rater group's part = effective weight × "
                             "mean points ÷ 100."},
    "rep.rule_groups": {"zh": "对某一对象有效评议表不足 {min} 份的评议层面不计分，其权重按比例分配给计分的层面；为保护评议人，"
                              "不列出其数字。",
                        "en": "A rater group with fewer than {min} valid ballots for an evaluee does not vote; its weight is "
                              "shared proportionally among the groups that do, and its figures are not shown (to protect "
                              "the raters)."},
    "rep.rule_interval": {"zh": "总分区间：民主评议部分抽样误差的 95% 区间，不超出可能的得分范围。",
                          "en": "Interval of the total: 95% interval of the democratic part's sampling error, within the "
                                "possible range."},
    "rep.progress": {"zh": "回收情况", "en": "Responses"},
    "rep.ranking": {"zh": "综合排名 · {category}", "en": "Ranking · {category}"},
    "rep.charts": {"zh": "图表", "en": "Charts"},
    "rep.evaluees": {"zh": "各被评议对象情况", "en": "Per evaluee"},
    "rep.rank_line": {"zh": "{category}第 {rank} 名（共 {of} 个计分对象）；总分 {total}（95% 区间 {low}–{high}）",
                      "en": "Rank {rank} of {of} in {category}; total {total} (95% interval {low}–{high})"},
    "rep.parts": {"zh": "得分构成", "en": "Score parts"},
    "rep.dims": {"zh": "各评议内容满意率", "en": "Satisfaction per dimension"},
    "rep.records": {"zh": "日常考核与加分记录", "en": "Daily assessment and bonus records"},
    "rep.no_records": {"zh": "无扣分或加分记录。", "en": "No deduction or bonus recorded."},
    "rep.rect": {"zh": "整改情况", "en": "Rectification"},
    "rep.no_rect": {"zh": "尚未发布整改通知书。", "en": "No rectification notice published yet."},
    "rep.rect_round": {"zh": "第 {round} 轮：截止 {deadline}；意见 {items} 项，已安排 {planned} 项，已完成 {done} 项，"
                             "逾期 {overdue} 项，无需整改 {exempt} 项。",
                       "en": "Round {round}: due {deadline}; {items} items, {planned} planned, {done} done, "
                             "{overdue} overdue, {exempt} need no rectification."},
    "rep.followup": {"zh": "第 {round} 轮整改回访满意度：{rate}（有效回答 {valid}）",
                     "en": "Round {round} follow-up satisfaction: {rate} ({valid} valid answers)"},
    "rep.followup_few": {"zh": "第 {round} 轮整改回访：有效回答不足 {min} 份，不显示满意度",
                         "en": "Round {round} follow-up: fewer than {min} valid answers, no figure shown"},
    "rep.followup_running": {"zh": "第 {round} 轮整改回访进行中：已答 {answered}/{asked}",
                             "en": "Round {round} follow-up running: {answered}/{asked} answered"},
    "rep.no_plans": {"zh": "尚未提交整改方案。", "en": "No plan filed yet."},
    "rep.not_voting": {"zh": "不计分：有效评议表不足 {min} 份，权重按比例分配给计分层面",
                       "en": "does not vote: fewer than {min} valid ballots; weight shared among the voting groups"},
    "rep.not_voting_short": {"zh": "{groups}有效评议表不足 {min} 份，不计分", "en": "{groups}: fewer than {min} ballots, not voting"},
    "rep.below": {"zh": "不足 {min} 份", "en": "fewer than {min}"},
    "rep.democratic_sum": {"zh": "民主评议合计", "en": "Democratic evaluation"},
    "rep.all_dims": {"zh": "综合", "en": "All dimensions"},
    "rep.counted": {"zh": "计入", "en": "counted"},
    "rep.not_counted": {"zh": "不计入（只计最高一项）", "en": "not counted (highest award only)"},
    "rep.deduction": {"zh": "扣分", "en": "Deduction"},
    "rep.bonus": {"zh": "加分", "en": "Bonus"},
    "rep.opinions_none": {"zh": "（无意见建议）", "en": "(no opinions)"},
    # column headers
    "col.category": {"zh": "类别", "en": "Category"},
    "col.rank": {"zh": "排名", "en": "Rank"},
    "col.evaluee": {"zh": "被评议对象", "en": "Evaluee"},
    "col.total": {"zh": "总分", "en": "Total"},
    "col.interval": {"zh": "95% 区间", "en": "95% interval"},
    "col.democratic": {"zh": "民主评议", "en": "Democratic"},
    "col.daily": {"zh": "日常考核", "en": "Daily assessment"},
    "col.bonus": {"zh": "加分", "en": "Bonus"},
    "col.rate": {"zh": "满意率", "en": "Satisfaction"},
    "col.valid": {"zh": "有效答案", "en": "Valid answers"},
    "col.previous": {"zh": "上轮总分", "en": "Previous total"},
    "col.change": {"zh": "较上轮", "en": "Change"},
    "col.note": {"zh": "说明", "en": "Note"},
    "col.group": {"zh": "评议层面", "en": "Rater group"},
    "col.ballots": {"zh": "有效评议表", "en": "Valid ballots"},
    "col.weight": {"zh": "权重", "en": "Weight"},
    "col.effective": {"zh": "实际权重", "en": "Effective weight"},
    "col.mean": {"zh": "平均分", "en": "Mean points"},
    "col.score": {"zh": "得分", "en": "Score"},
    "col.dimension": {"zh": "评议内容", "en": "Dimension"},
    "col.dont_know": {"zh": "不了解", "en": "Don't know"},
    "col.category_rate": {"zh": "同类平均", "en": "Category average"},
    "col.low": {"zh": "区间下限", "en": "Interval low"},
    "col.high": {"zh": "区间上限", "en": "Interval high"},
    "col.kind": {"zh": "类型", "en": "Kind"},
    "col.item": {"zh": "事项", "en": "Item"},
    "col.points": {"zh": "分值", "en": "Points"},
    "col.counts": {"zh": "计分", "en": "Counts"},
    "col.reason": {"zh": "事由", "en": "Reason"},
    "col.by": {"zh": "记录人", "en": "Recorded by"},
    "col.when": {"zh": "记录时间", "en": "Recorded at"},
    "col.round": {"zh": "轮次", "en": "Round"},
    "col.number": {"zh": "序号", "en": "No."},
    "col.items": {"zh": "对应意见", "en": "Items"},
    "col.measure": {"zh": "整改措施 / 理由", "en": "Measure / reason"},
    "col.owner": {"zh": "责任人", "en": "Owner"},
    "col.deadline": {"zh": "时限", "en": "Due"},
    "col.state": {"zh": "状态", "en": "State"},
    "col.progress": {"zh": "进展", "en": "Progress"},
    "col.progress_at": {"zh": "进展时间", "en": "Progress at"},
    "col.followup": {"zh": "本轮回访满意度", "en": "Round follow-up"},
    "col.opinion": {"zh": "意见建议", "en": "Opinion"},
    "col.voting": {"zh": "计分层面", "en": "Voting groups"},
    "col.not_voting": {"zh": "未计分层面", "en": "Groups not voting"},
    "sheet.ranking": {"zh": "排名", "en": "Ranking"},
    "sheet.dimensions": {"zh": "评议内容", "en": "Dimensions"},
    "sheet.opinions": {"zh": "意见建议", "en": "Opinions"},
    "sheet.rectification": {"zh": "整改", "en": "Rectification"},
    "sheet.records": {"zh": "日常考核记录", "en": "Daily assessment records"},
    "sheet.notes": {"zh": "说明", "en": "Notes"},
    "item.verified_complaint": {"zh": "服务对象投诉经查实", "en": "Verified complaint"},
    "item.unresolved_complaint": {"zh": "合理意见或投诉未及时整改", "en": "Complaint not rectified in time"},
    "item.accountability": {"zh": "本人被追究效能责任", "en": "Held accountable"},
    "item.litigation": {"zh": "行政复议或诉讼确属履职不当", "en": "Administrative review or lawsuit lost"},
    "item.staff_accountability": {"zh": "分管人员被追究效能责任", "en": "Staff member held accountable"},
    "item.staff_discipline": {"zh": "分管人员受处分或被追究刑责", "en": "Staff member disciplined or prosecuted"},
    "item.county": {"zh": "县级表彰", "en": "County award"},
    "item.city": {"zh": "市级表彰", "en": "City award"},
    "item.province": {"zh": "省级表彰", "en": "Provincial award"},
    "item.national": {"zh": "国家级表彰", "en": "National award"},
})

if TYPE_CHECKING:
    from reports.charts import Chart


# --- cells and tables -------------------------------------------------------------------------
@dataclass(frozen=True)
class V:
    """A cell: the value for a spreadsheet, the text for a page, the xlsx number format."""

    value: object
    text: str
    fmt: str | None = None  # set for numbers (right-aligned on a page)

    @property
    def numeric(self) -> bool:
        return self.fmt is not None


def txt(s: object) -> V:
    s = "" if s is None else str(s)
    return V(s, s)


def score(x: float | None) -> V:
    return V(None if x is None else round(x, 2), num(x), "0.00")


def rate(x: float | None) -> V:
    return V(None if x is None else round(x, 4), pct(x), "0.0%")


def count(n: int | None) -> V:
    return V(n, "—" if n is None else str(n), "0")


@dataclass
class Table:
    head: list[str]
    rows: list[list[V]] = field(default_factory=list)


# --- the model --------------------------------------------------------------------------------------
@dataclass
class CategorySection:
    key: str
    label: str
    ranking: Table
    chart: Chart | None


@dataclass
class EvalueeSection:
    key: str
    anchor: str
    name: str
    category: str
    scored: bool
    headline: str
    parts: Table
    dims: Table
    records: Table
    rect_lines: list[str]
    plans: Table | None


@dataclass
class Report:
    campaign: Campaign
    locale: str
    result: Tally
    title: str
    meta: list[str]
    rules: list[str]
    progress: list[str]
    categories: list[CategorySection]
    evaluees: list[EvalueeSection]
    charts: list[Chart]
    opinions: Table  # xlsx only
    dimensions: Table  # xlsx: per evaluee x dimension with the level counts
    records: Table  # xlsx
    plans: Table  # xlsx
    ranking: Table  # xlsx / csv: every category

    def label(self, key: str, **kw: object) -> str:
        return t(key, self.locale, **kw)


def _charts():  # noqa: ANN202
    from reports import charts  # matplotlib: imported only where a chart is drawn

    return charts


def _tx(campaign: Campaign, locale: str):  # noqa: ANN202
    return lambda v: campaign.text(v, locale)


def _item_label(item: str, locale: str) -> str:
    try:
        return t(f"item.{item}", locale)
    except KeyError:
        return item


def ranking_table(campaign: Campaign, result: Tally, category: str, locale: str, with_category: bool = False) -> Table:
    tx = _tx(campaign, locale)
    L = lambda k: t(k, locale)  # noqa: E731
    head = [L("col.rank"), L("col.evaluee"), L("col.total"), L("col.interval"), L("col.democratic"), L("col.daily"),
            L("col.bonus"), L("col.rate"), L("col.valid"), L("col.previous"), L("col.change"), L("col.note")]
    if with_category:
        head = [L("col.category"), *head]
    table = Table(head)
    cat_label = tx(next(c.label for c in campaign.categories if c.key == category))
    rows = sorted((r for r in result.evaluees.values() if r.category == category),
                  key=lambda r: (not r.scored, r.rank or 0, [e.key for e in campaign.evaluees].index(r.evaluee)))
    for r in rows:
        valid = sum(d.valid for d in r.dimensions.values())
        satisfied = sum(d.satisfied for d in r.dimensions.values())
        iv = scores.total_interval(campaign, r)
        groups = ("、" if locale == "zh" else ", ").join(tx(campaign.group(g).label) for g in r.not_voting)
        # (an unscored row says why in its total)
        note = t("rep.not_voting_short", locale, groups=groups, min=campaign.min_group_size) \
            if r.scored and r.not_voting else ""
        change = r.total - r.previous_total if r.scored and r.previous_total is not None else None
        row = [count(r.rank) if r.scored else txt("—"), txt(tx(campaign.evaluee(r.evaluee).name)),
               score(r.total) if r.scored else txt(no_score(campaign.min_group_size, locale)),
               txt(f"{iv.low:.2f}–{iv.high:.2f}") if iv else txt("—"), score(r.democratic), score(r.daily),
               score(r.bonus), rate(satisfied / valid if valid else None), count(valid), score(r.previous_total),
               V(None if change is None else round(change, 2), "—" if change is None else f"{change:+.2f}", "+0.00;-0.00"),
               txt(note)]
        table.rows.append([txt(cat_label), *row] if with_category else row)
    return table


def parts_table(campaign: Campaign, r: EvalueeResult, locale: str) -> Table:
    tx = _tx(campaign, locale)
    L = lambda k: t(k, locale)  # noqa: E731
    table = Table([L("col.group"), L("col.ballots"), L("col.weight"), L("col.effective"), L("col.mean"),
                   L("col.score"), L("col.note")])
    for g in campaign.rater_groups:
        part = r.groups.get(g.key)
        if part is None:
            continue
        if part.votes:
            table.rows.append([txt(tx(g.label)), count(part.ballots), score(part.weight), score(part.effective_weight),
                               score(part.mean_points), score(part.score), txt("")])
        else:  # no figures of a group too small to hide in, not even its count
            table.rows.append([txt(tx(g.label)), txt(t("rep.below", locale, min=campaign.min_group_size)),
                               score(part.weight), txt("—"), txt("—"), txt("—"),
                               txt(t("rep.not_voting", locale, min=campaign.min_group_size))])
    voting = [p for p in r.groups.values() if p.votes]
    table.rows.append([txt(L("rep.democratic_sum")), count(sum(p.ballots for p in voting) if voting else None),
                       score(sum(p.weight for p in r.groups.values())),
                       score(sum(p.effective_weight for p in voting)), txt(""), score(r.democratic),
                       txt("" if r.scored else no_score(campaign.min_group_size, locale))])
    table.rows.append([txt(L("col.daily")), txt(""), score(campaign.scoring.daily_base), txt(""), txt(""),
                       score(r.daily), txt("")])
    table.rows.append([txt(L("col.bonus")), txt(""), txt(""), txt(""), txt(""), score(r.bonus), txt("")])
    table.rows.append([txt(L("col.total")), txt(""), txt(""), txt(""), txt(""), score(r.total),
                       txt("" if r.scored else no_score(campaign.min_group_size, locale))])
    return table


def dims_table(campaign: Campaign, result: Tally, r: EvalueeResult, locale: str) -> Table:
    tx = _tx(campaign, locale)
    L = lambda k: t(k, locale)  # noqa: E731
    table = Table([L("col.dimension"), L("col.rate"), L("col.interval"), L("col.valid"), L("col.dont_know"),
                   L("col.category_rate")])
    for d in campaign.dimensions:
        x = r.dimensions[d.key]
        interval = f"{pct(x.low)}–{pct(x.high)}" if x.rate is not None else "—"
        table.rows.append([txt(tx(d.label)), rate(x.rate), txt(interval), count(x.valid), count(x.dont_know),
                           rate(result.category_rates.get((r.category, d.key)))])
    valid = sum(x.valid for x in r.dimensions.values())
    satisfied = sum(x.satisfied for x in r.dimensions.values())
    low, high = wilson(satisfied, valid)
    table.rows.append([txt(L("rep.all_dims")), rate(satisfied / valid if valid else None),
                       txt(f"{pct(low)}–{pct(high)}" if valid else "—"), count(valid),
                       count(sum(x.dont_know for x in r.dimensions.values())), txt("")])
    return table


def records_table(campaign: Campaign, events: list, evaluee: str | None, locale: str) -> Table:
    """Deductions and bonuses with their reasons (``storage.tally`` records as they are:
    kind, item, points, note, who, when; times in the campaign's zone)."""
    tx = _tx(campaign, locale)
    L = lambda k: t(k, locale)  # noqa: E731
    head = [L("col.kind"), L("col.item"), L("col.points"), L("col.counts"), L("col.reason"), L("col.by"), L("col.when")]
    table = Table([L("col.evaluee"), *head] if evaluee is None else head)
    best: dict[str, object] = {}
    for ev in events:  # only the highest award counts: the first recorded of the highest
        if ev.kind == "bonus" and (ev.evaluee_key not in best or ev.points > best[ev.evaluee_key].points):
            best[ev.evaluee_key] = ev
    for ev in events:
        if evaluee is not None and ev.evaluee_key != evaluee:
            continue
        if ev.kind == "deduction":
            kind, points, counts = L("rep.deduction"), -ev.points, L("rep.counted")
        else:
            kind, points = L("rep.bonus"), ev.points
            counts = L("rep.counted") if best.get(ev.evaluee_key) is ev else L("rep.not_counted")
        row = [txt(kind), txt(_item_label(ev.item, locale)), V(points, f"{points:+g}", "+0.##;-0.##"), txt(counts),
               txt(ev.note or ""), txt(ev.recorded_by), txt(local_time(ev.recorded_at, campaign.timezone))]
        table.rows.append(row if evaluee is not None else [txt(tx(campaign.evaluee(ev.evaluee_key).name)), *row])
    return table


def _followup_line(campaign: Campaign, rr: rect.RoundRate, locale: str) -> str:
    if not rr.closed:
        return t("rep.followup_running", locale, round=rr.number, answered=rr.answered, asked=rr.asked)
    if (rr.valid or 0) < campaign.min_group_size:  # as the evaluee's contacts see it
        return t("rep.followup_few", locale, round=rr.number, min=campaign.min_group_size)
    return t("rep.followup", locale, round=rr.number, rate=pct(rr.rate), valid=rr.valid)


def plans_table(campaign: Campaign, rows: list[rect.PlanRow], evaluee: str | None, locale: str,
                board: dict[str, rect.BoardRow] | None = None) -> Table:
    tx = _tx(campaign, locale)
    L = lambda k: t(k, locale)  # noqa: E731
    head = [L("col.round"), L("col.number"), L("col.items"), L("col.measure"), L("col.owner"), L("col.deadline"),
            L("col.state"), L("col.progress"), L("col.progress_at")]
    if evaluee is None:
        head = [L("col.evaluee"), *head, L("col.followup")]
    table = Table(head)
    for p in rows:
        if evaluee is not None and p.evaluee != evaluee:
            continue
        plan = p.kind == "plan"
        row = [count(p.round), count(p.number), txt(rf.format_items(p.items, locale)), txt(p.measure),
               txt(p.owner if plan else "—"), txt(p.deadline.isoformat() if plan else "—"),
               txt(rect.state_label(p.state, locale)), txt(p.progress or ""),
               txt(local_time(p.progress_at, campaign.timezone) if p.progress_at else "")]
        if evaluee is None:
            b = (board or {}).get(p.evaluee)
            rr = next((x for x in b.rounds if x.number == p.round), None) if b else None
            row = [txt(tx(campaign.evaluee(p.evaluee).name)), *row,
                   txt(_followup_line(campaign, rr, locale) if rr else "")]
        table.rows.append(row)
    return table


def opinions_table(session: Session, campaign: Campaign, result: Tally, locale: str) -> Table:
    """Per evaluee the opinions as its notice carries them (scrubbed, numbered in random
    order, no group, no ballot id); before publishing, scrubbed now the same way and
    shuffled."""
    tx = _tx(campaign, locale)
    table = Table([t("col.evaluee", locale), t("col.number", locale), t("col.opinion", locale)])
    shuffle = secrets.SystemRandom().shuffle
    for e in campaign.evaluees:
        if rs.notice(session, campaign.id, e.key) is not None:
            items = [(i.number, i.text) for i in rs.items(session, campaign.id, e.key)]
        else:
            texts, _ = notices.scrubbed(campaign, result.evaluees[e.key], ballots.opinions(session, campaign.id, e.key))
            shuffle(texts)
            items = list(enumerate(texts, 1))
        for number, text in items:
            table.rows.append([txt(tx(e.name)), count(number), txt(text)])
    return table


def dimensions_table(campaign: Campaign, result: Tally, locale: str) -> Table:
    """Per evaluee and dimension, all groups pooled: the answers on each level."""
    tx = _tx(campaign, locale)
    L = lambda k: t(k, locale)  # noqa: E731
    table = Table([L("col.evaluee"), L("col.dimension"), *[tx(o.label) for o in campaign.scale], L("col.dont_know"),
                   L("col.valid"), L("col.rate"), L("col.low"), L("col.high"), L("col.mean"), L("col.category_rate")])
    for e in campaign.evaluees:
        r = result.evaluees[e.key]
        for d in campaign.dimensions:
            x = r.dimensions[d.key]
            table.rows.append([txt(tx(e.name)), txt(tx(d.label)), *[count(x.counts.get(o.key, 0)) for o in campaign.scale],
                               count(x.dont_know), count(x.valid), rate(x.rate), rate(x.low), rate(x.high),
                               score(x.mean_points), rate(result.category_rates.get((r.category, d.key)))])
    return table


def build(session: Session, campaign: Campaign, result: Tally, locale: str = "zh", now: datetime | None = None,
          with_charts: bool = True, closed: bool = True) -> Report:
    now = now or datetime.now(UTC)
    tx = _tx(campaign, locale)
    tz = campaign.timezone
    figures = progress.progress(session, campaign)
    events = store.events(session, campaign.id)
    board = {b.evaluee: b for b in rect.board(session, campaign, now)}
    plan_rows = rect.plan_rows(session, campaign, now)
    most = max(scores.max_democratic(campaign, e.key) for e in campaign.evaluees)
    meta = [t("rep.period", locale, opens=local_time(campaign.opens, tz), closes=local_time(campaign.closes, tz), tz=tz),
            t("rep.computed", locale, at=local_time(result.computed_at, tz), n=result.ballots)]
    if not closed:
        meta.append(t("rep.live", locale))
    meta.append(t("rep.printed", locale, at=local_time(now, tz)))
    rules = [t("rep.rule_rate", locale),
             t("rep.rule_score", locale, democratic=f"{most:g}",
               daily=f"{campaign.scoring.daily_base:g}"),
             t("rep.rule_groups", locale, min=campaign.min_group_size), t("rep.rule_interval", locale)]
    categories = []
    for c in campaign.categories:
        if not any(r.category == c.key for r in result.evaluees.values()):
            continue
        chart = _charts().ranking(campaign, result, c.key, locale) if with_charts else None
        categories.append(CategorySection(c.key, tx(c.label), ranking_table(campaign, result, c.key, locale), chart))
    sections = []
    for i, e in enumerate(campaign.evaluees, 1):
        r = result.evaluees[e.key]
        cat = tx(next(c.label for c in campaign.categories if c.key == e.category))
        if r.scored:
            iv = scores.total_interval(campaign, r)
            headline = t("rep.rank_line", locale, category=cat, rank=r.rank, of=r.of, total=num(r.total),
                         low=num(iv.low), high=num(iv.high))
        else:
            headline = f"{cat}：{no_score(campaign.min_group_size, locale)}" if locale == "zh" else \
                f"{cat}: {no_score(campaign.min_group_size, locale)}"
        b = board.get(e.key)
        rect_lines = []
        plans = None
        if b is None:
            rect_lines.append(t("rep.no_rect", locale))
        else:
            rect_lines.append(t("rep.rect_round", locale, round=b.round, deadline=b.deadline.isoformat(),
                                items=b.items, planned=b.planned, done=b.done, overdue=b.overdue, exempt=b.exempt))
            rect_lines += [_followup_line(campaign, rr, locale) for rr in b.rounds]
            plans = plans_table(campaign, plan_rows, e.key, locale)
            if not plans.rows:
                rect_lines.append(t("rep.no_plans", locale))
                plans = None
        sections.append(EvalueeSection(e.key, f"e{i}", tx(e.name), cat, r.scored, headline,
                                       parts_table(campaign, r, locale), dims_table(campaign, result, r, locale),
                                       records_table(campaign, events, e.key, locale), rect_lines, plans))
    found: list[Chart] = []
    if with_charts:
        found = [c for c in _charts().result_charts(campaign, result, locale) if not c.name.startswith("ranking-")]
        found.append(_charts().progress(campaign, figures, locale))
    ranking_all = Table([])
    for c in campaign.categories:
        part = ranking_table(campaign, result, c.key, locale, with_category=True)
        ranking_all.head = part.head
        ranking_all.rows += part.rows
    return Report(
        campaign=campaign, locale=locale, result=result, title=tx(campaign.title), meta=meta, rules=rules,
        progress=[progress.line(campaign, f, locale) for f in figures], categories=categories, evaluees=sections,
        charts=found, opinions=opinions_table(session, campaign, result, locale),
        dimensions=dimensions_table(campaign, result, locale),
        records=records_table(campaign, events, None, locale),
        plans=plans_table(campaign, plan_rows, None, locale, board), ranking=ranking_all)
