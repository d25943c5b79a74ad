"""The organizer digest (汇总通报): a text summary plus charts.

While a sealed campaign is open it carries progress only (per rater group: drawn or
target, submitted, response rate); once closed, or for an unsealed campaign, the
ranking and satisfaction figures too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from sqlmodel import Session

from flows.campaign import Campaign
from flows.i18n import register, t
from reports import charts, tally
from reports import rectification as rect
from storage import campaigns
from storage.status import group_progress

register({
    "digest.title": {"zh": "【汇总通报】{title}", "en": "[Digest] {title}"},
    "digest.phase": {"zh": "状态：{phase}；已收到评议表 {n} 份", "en": "Status: {phase}; {n} ballots received"},
    "digest.phase.upcoming": {"zh": "未开始", "en": "not open yet"},
    "digest.phase.open": {"zh": "进行中", "en": "open"},
    "digest.phase.closed": {"zh": "已结束", "en": "closed"},
    "digest.progress": {"zh": "各评议层面回收情况：", "en": "Responses per rater group:"},
    "digest.group": {"zh": "· {group}：{done}/{target}{rate}", "en": "· {group}: {done}/{target}{rate}"},
    "digest.sealed": {
        "zh": "本次评议为密封评议，结果在结束统计（minping close）后公布。",
        "en": "This evaluation is sealed: results are published after it is closed (minping close).",
    },
    "digest.ranking": {"zh": "综合排名 · {category}：", "en": "Ranking · {category}:"},
    "digest.row": {"zh": "{rank}. {name}  {total}分  满意率 {rate}", "en": "{rank}. {name}  {total}  satisfaction {rate}"},
    "digest.not_voting": {
        "zh": "注：{name} 的“{groups}”有效评议表不足 {min} 份，不计入得分，其权重按比例分配给其他层面。",
        "en": "Note: for {name}, “{groups}” had fewer than {min} valid ballots and does not count; its weight is shared among the other groups.",
    },
    "digest.charts": {"zh": "图表见下。", "en": "Charts follow."},
    "digest.overdue": {"zh": "逾期整改事项 {n} 项：", "en": "{n} overdue rectification item(s):"},
    "digest.overdue_row": {"zh": "· {name}：第 {items} 项，截止 {deadline}", "en": "· {name}: item(s) {items}, due {deadline}"},
    "digest.live": {"zh": "（评议进行中，以下为实时结果）", "en": "(still open: live figures)"},
})

MAX_ROWS = 30  # per category in the text; the charts and exports have all


@dataclass
class Digest:
    text: str  # Telegram HTML
    charts: list[charts.Chart] = field(default_factory=list)
    results: bool = False  # carries per-evaluee results


def progress_lines(session: Session, campaign: Campaign, locale: str, rows: list | None = None) -> list[str]:
    lines = [escape(t("digest.progress", locale))]
    for p in rows if rows is not None else group_progress(session, campaign):
        g = campaign.group(p.group)
        target = getattr(p, "drawn", None) or g.sample or p.enrolled
        rate = f" ({p.submitted / target:.0%})" if target else ""
        lines.append(escape(t("digest.group", locale, group=campaign.text(g.label, locale), done=p.submitted,
                              target=target or "—", rate=rate)))
    return lines


def overdue_lines(session: Session, campaign: Campaign, locale: str, now: datetime) -> list[str]:
    """Overdue rectification items (issue 6): escalated to the organizers in every digest."""
    overdue = rect.overdue_items(session, campaign, now)
    if not overdue:
        return []
    lines = ["", f"<b>{escape(t('digest.overdue', locale, n=sum(len(o.items) for o in overdue)))}</b>"]
    for o in overdue[:10]:
        name = campaign.text(campaign.evaluee(o.evaluee).name, locale)
        lines.append(escape(t("digest.overdue_row", locale, name=name, items="、".join(map(str, o.items)),
                              deadline=o.deadline.isoformat())))
    if len(overdue) > 10:
        lines.append(escape(t("common.more", locale, n=len(overdue) - 10)))
    return lines


def build(session: Session, campaign: Campaign, locale: str, now: datetime | None = None,
          with_charts: bool = True) -> Digest:
    now = now or datetime.now(UTC)
    row = campaigns.get_row(session, campaign.id)
    ph = campaigns.phase(row, now)
    lines = [f"<b>{escape(t('digest.title', locale, title=campaign.text(campaign.title, locale)))}</b>",
             escape(t("digest.phase", locale, phase=t(f"digest.phase.{ph}", locale), n=row.chain_count)), ""]
    progress = group_progress(session, campaign)
    lines += progress_lines(session, campaign, locale, progress)
    progress_chart = charts.progress(campaign, progress, locale) if with_charts else None
    if tally.is_sealed(campaign, row):
        lines += ["", escape(t("digest.sealed", locale))]
        return Digest("\n".join(lines), [progress_chart] if progress_chart else [], results=False)
    result = tally.results(session, campaign, now)
    if not row.closed:
        lines += ["", escape(t("digest.live", locale))]
    notes = []
    for cat in campaign.categories:
        rows = sorted((r for r in result.evaluees.values() if r.category == cat.key), key=lambda r: (r.rank, r.evaluee))
        if not rows:
            continue
        lines += ["", f"<b>{escape(t('digest.ranking', locale, category=campaign.text(cat.label, locale)))}</b>"]
        for r in rows[:MAX_ROWS]:
            rated = [d for d in r.dimensions.values() if d.valid]
            valid = sum(d.valid for d in rated)
            rate = f"{sum(d.satisfied for d in rated) / valid:.1%}" if valid else "—"
            name = campaign.text(campaign.evaluee(r.evaluee).name, locale)
            lines.append(escape(t("digest.row", locale, rank=r.rank, name=name, total=f"{r.total:.2f}", rate=rate)))
            if r.not_voting:
                groups = "、".join(campaign.text(campaign.group(g).label, locale) for g in r.not_voting)
                notes.append(escape(t("digest.not_voting", locale, name=name, groups=groups, min=campaign.min_group_size)))
        if len(rows) > MAX_ROWS:
            lines.append(escape(t("common.more", locale, n=len(rows) - MAX_ROWS)))
    if notes:
        lines += [""] + notes[:10]
        if len(notes) > 10:
            lines.append(escape(t("common.more", locale, n=len(notes) - 10)))
    lines += overdue_lines(session, campaign, locale, now)
    found = []
    if with_charts:
        found = charts.result_charts(campaign, result, tally.rounds(session, campaign, result), locale)
        found.append(progress_chart)
        lines += ["", escape(t("digest.charts", locale))]
    text = "\n".join(lines)
    if len(text) > 4000:  # Telegram's limit is 4096: keep the head, the charts carry the rest
        text = text[:3990].rsplit("\n", 1)[0] + "\n…"
    return Digest(text, found, results=True)

