"""Progress per rater group: the one definition every surface uses (``minping status``,
chat ``/status``, the digest's text and its chart). The figures are defined once, in
``storage.progress`` (plain SQL and Python, which the quick ``minping status`` runs
without SQLAlchemy); this module adds the session and the words.

* A sampled group's progress is the drawn raters who submitted ÷ the drawn (AAPOR RR1).
  Before the draw there is no such figure: the group shows how many enrolled.
* Ballots through after-service links (一事一评) are never drawn: they are counted apart,
  as a number, never against the drawn.
* An open group has no draw and no rate: it shows its number of ballots.
"""

from __future__ import annotations

from sqlmodel import Session

from flows.campaign import Campaign
from flows.i18n import register, t
from storage import draw
from storage.progress import GroupProgress, Progress, figures, rate_text
from storage.status import group_progress

__all__ = ["Progress", "from_rows", "line", "progress", "rate_text"]

register({
    "progress.sampled": {"zh": "{group}：{done}/{of}（{rate}）", "en": "{group}: {done}/{of} ({rate})"},
    "progress.empty_pool": {"zh": "{group}：报名池为空，无人抽中", "en": "{group}: empty pool, nobody drawn"},
    "progress.not_drawn": {"zh": "{group}：尚未抽签（已报名 {enrolled} 人，计划抽取 {sample} 人）",
                           "en": "{group}: not drawn yet ({enrolled} enrolled, {sample} to draw)"},
    "progress.open": {"zh": "{group}：{done} 份（开放参与，不抽样）", "en": "{group}: {done} ballots (open, no draw)"},
    "progress.after_service": {"zh": "；另有一事一评 {n} 份", "en": "; plus {n} after-service"},
})


def from_rows(campaign: Campaign, rows: list[GroupProgress], revealed: bool) -> list[Progress]:
    return figures(rows, {g.key: g.sample for g in campaign.rater_groups}, revealed)


def progress(session: Session, campaign: Campaign) -> list[Progress]:
    """Counted by the database in one GROUP BY (``storage.status``)."""
    return from_rows(campaign, group_progress(session, campaign), draw.revealed(session, campaign.id))


def line(campaign: Campaign, p: Progress, locale: str) -> str:
    """One group's progress as a plain-text line (callers escape it for HTML)."""
    group = campaign.text(campaign.group(p.group).label, locale)
    if p.kind == "open":
        text = t("progress.open", locale, group=group, done=p.done)
    elif p.of is None:
        text = t("progress.not_drawn", locale, group=group, enrolled=p.enrolled, sample=p.sample or "—")
    elif p.of == 0:
        text = t("progress.empty_pool", locale, group=group)
    else:
        text = t("progress.sampled", locale, group=group, done=p.done, of=p.of, rate=rate_text(p.rate))
    if p.after_service:
        text += t("progress.after_service", locale, n=p.after_service)
    return text
