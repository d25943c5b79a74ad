"""The organizer digest (汇总通报): a text summary plus charts.

While a sealed campaign is open it carries progress only (``reports.progress``: per
sampled group submitted ÷ drawn, after-service and open groups as counts); once closed, or for an unsealed campaign, the
ranking and satisfaction figures too.

``reports.charts`` (matplotlib) is imported only when a digest's charts are drawn: the bot's
process imports this module for ``/status`` and must not load matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from sqlmodel import Session

from flows.campaign import Campaign
from flows.i18n import register, t
from reports import progress, tally
from reports import rectification as rect
from reports.results import no_score
from storage import campaigns

if TYPE_CHECKING:
    from reports import charts

register({
    "digest.title": {"zh": "【汇总通报】{title}", "en": "[Digest] {title}"},
    "digest.phase": {"zh": "状态：{phase}；已收到评议表 {n} 份", "en": "Status: {phase}; {n} ballots received"},
    "digest.phase.upcoming": {"zh": "未开始", "en": "not open yet"},
    "digest.phase.open": {"zh": "进行中", "en": "open"},
    "digest.phase.closed": {"zh": "已结束", "en": "closed"},
    "digest.progress": {"zh": "各评议层面回收情况：", "en": "Responses per rater group:"},
    "digest.sealed": {
        "zh": "本次评议为密封评议，结果在评议结束、统计封存后公布。",
        "en": "This evaluation is sealed: results are published once it has been closed and counted.",
    },
    "digest.ranking": {"zh": "综合排名 · {category}：", "en": "Ranking · {category}:"},
    "digest.row": {"zh": "{rank}. {name}  {total}分  满意率 {rate}", "en": "{rank}. {name}  {total}  satisfaction {rate}"},
    "digest.row_no_score": {"zh": "— {name}  {reason}  满意率 {rate}", "en": "— {name}  {reason}  satisfaction {rate}"},
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
    """Progress per rater group (``reports.progress``: the same figures as ``minping
    status`` and the progress chart)."""
    lines = [escape(t("digest.progress", locale))]
    for p in rows if rows is not None else progress.progress(session, campaign):
        lines.append("· " + escape(progress.line(campaign, p, locale)))
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


@dataclass
class Prepared:
    """A digest read from the database, its charts not drawn yet: ``finish`` draws them
    with no database work, so that a writer (the digest worker on SQLite) never holds
    the database while matplotlib draws."""

    text: str
    draw: Callable[[], list]
    results: bool

    def finish(self) -> Digest:
        return Digest(self.text, self.draw(), self.results)


def status_text(session: Session, campaign: Campaign, locale: str, now: datetime) -> str:
    """What an organizer's ``/status`` shows of a campaign: its phase, the ballots
    received, the progress per rater group (progress only, also while sealed)."""
    row = campaigns.get_row(session, campaign.id)
    ph = campaigns.phase(row, now)
    lines = [f"<b>{escape(campaign.text(campaign.title, locale))}</b>",
             escape(t("digest.phase", locale, phase=t(f"digest.phase.{ph}", locale), n=row.chain_count)), ""]
    return "\n".join(lines + progress_lines(session, campaign, locale))


def build(session: Session, campaign: Campaign, locale: str, now: datetime | None = None,
          with_charts: bool = True) -> Digest:
    return prepare(session, campaign, locale, now, with_charts).finish()


def _charts():  # noqa: ANN202
    from reports import charts  # matplotlib: only where charts are drawn (the digest worker, reports)

    return charts


def prepare(session: Session, campaign: Campaign, locale: str, now: datetime | None = None,
            with_charts: bool = True) -> Prepared:
    now = now or datetime.now(UTC)
    row = campaigns.get_row(session, campaign.id)
    ph = campaigns.phase(row, now)
    lines = [f"<b>{escape(t('digest.title', locale, title=campaign.text(campaign.title, locale)))}</b>",
             escape(t("digest.phase", locale, phase=t(f"digest.phase.{ph}", locale), n=row.chain_count)), ""]
    figures = progress.progress(session, campaign)
    lines += progress_lines(session, campaign, locale, figures)

    def progress_chart() -> list:
        return [_charts().progress(campaign, figures, locale)] if with_charts else []

    if tally.is_sealed(campaign, row):
        lines += ["", escape(t("digest.sealed", locale))]
        return Prepared("\n".join(lines), progress_chart, results=False)
    result = tally.results(session, campaign, now)
    if not row.closed:
        lines += ["", escape(t("digest.live", locale))]
    notes = []
    for cat in campaign.categories:
        rows = sorted((r for r in result.evaluees.values() if r.category == cat.key),
                      key=lambda r: (not r.scored, r.rank or 0, r.evaluee))
        if not rows:
            continue
        lines += ["", f"<b>{escape(t('digest.ranking', locale, category=campaign.text(cat.label, locale)))}</b>"]
        for r in rows[:MAX_ROWS]:
            rated = [d for d in r.dimensions.values() if d.valid]
            valid = sum(d.valid for d in rated)
            rate = f"{sum(d.satisfied for d in rated) / valid:.1%}" if valid else "—"
            name = campaign.text(campaign.evaluee(r.evaluee).name, locale)
            if r.scored:
                lines.append(escape(t("digest.row", locale, rank=r.rank, name=name, total=f"{r.total:.2f}", rate=rate)))
            else:
                lines.append(escape(t("digest.row_no_score", locale, name=name,
                                      reason=no_score(campaign.min_group_size, locale), rate=rate)))
            if r.not_voting and r.scored:  # unscored: the row says why
                groups = "、".join(campaign.text(campaign.group(g).label, locale) for g in r.not_voting)
                notes.append(escape(t("digest.not_voting", locale, name=name, groups=groups, min=campaign.min_group_size)))
        if len(rows) > MAX_ROWS:
            lines.append(escape(t("common.more", locale, n=len(rows) - MAX_ROWS)))
    if notes:
        lines += [""] + notes[:10]
        if len(notes) > 10:
            lines.append(escape(t("common.more", locale, n=len(notes) - 10)))
    lines += overdue_lines(session, campaign, locale, now)
    if with_charts:
        lines += ["", escape(t("digest.charts", locale))]
    text = "\n".join(lines)
    if len(text) > 4000:  # Telegram's limit is 4096: keep the head, the charts carry the rest
        text = text[:3990].rsplit("\n", 1)[0] + "\n…"

    def result_charts() -> list:
        return [*_charts().result_charts(campaign, result, locale), *progress_chart()] if with_charts else []

    return Prepared(text, result_charts, results=True)

