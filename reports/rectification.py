"""The rectification board: per evaluee, its items, planned, done and overdue, the
round and its deadline, and the follow-up satisfaction rate of each round; and the list
of overdue items (for reminders, escalation and the organizers' digest).

An item is *planned* when a plan of the evaluee's current round answers it, *done* when
such a plan is done, *overdue* when its plan's deadline day has ended undone, or when the
round's deadline day has ended and no plan answers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from sqlmodel import Session

from flows.campaign import Campaign
from flows.i18n import register, t
from storage import feedback as fb

register({
    "board.title": {"zh": "整改台账 · {title}", "en": "Rectification board · {title}"},
    "board.none": {"zh": "尚未发布整改通知书（minping publish）。", "en": "No notice published yet (minping publish)."},
    "board.line": {"zh": "{name}：第 {round} 轮，截止 {deadline}；意见 {items} 项，已安排 {planned}，已完成 {done}，逾期 {overdue}",
                   "en": "{name}: round {round}, due {deadline}; {items} items, {planned} planned, {done} done, {overdue} overdue"},
    "board.rate": {"zh": "　第 {round} 轮整改满意度 {rate}（有效 {valid}）", "en": "  Round {round} satisfaction {rate} ({valid} valid)"},
    "board.survey": {"zh": "　第 {round} 轮回访进行中：已答 {answered}/{asked}",
                     "en": "  Round {round} follow-up running: {answered}/{asked} answered"},
    "board.contacts_none": {"zh": "　（尚无联系人）", "en": "  (no contact bound yet)"},
})


@dataclass(frozen=True)
class RoundRate:
    number: int
    rate: float | None
    valid: int | None
    closed: bool
    asked: int
    answered: int


@dataclass(frozen=True)
class BoardRow:
    evaluee: str
    contacts: int
    round: int
    deadline: date
    items: int
    planned: int
    done: int
    overdue: int
    rounds: list[RoundRate]


@dataclass(frozen=True)
class OverdueItem:
    evaluee: str
    round_id: int
    round: int
    plan_id: int | None  # None: the items have no plan at the round's deadline
    items: tuple[int, ...]
    measure: str | None
    owner: str | None
    deadline: date


def _status(campaign: Campaign, rnd: fb.RectRound, n_items: list[int], plans: list[fb.RectPlan],
            now: datetime) -> tuple[set[int], set[int], list[OverdueItem]]:
    planned = {i for p in plans for i in p.items}
    done = {i for p in plans if p.status == "done" for i in p.items}
    overdue: list[OverdueItem] = []
    for p in plans:
        if p.status != "done" and now >= fb.end_of(p.deadline, campaign.timezone):
            overdue.append(OverdueItem(rnd.evaluee_key, rnd.id, rnd.number, p.id, tuple(p.items), p.measure,
                                       p.owner, p.deadline))
    unplanned = tuple(i for i in n_items if i not in planned)
    if unplanned and now >= fb.end_of(rnd.deadline, campaign.timezone):
        overdue.append(OverdueItem(rnd.evaluee_key, rnd.id, rnd.number, None, unplanned, None, None, rnd.deadline))
    return planned, done, overdue


def overdue_items(session: Session, campaign: Campaign, now: datetime) -> list[OverdueItem]:
    """Overdue items of each evaluee's current round (for the organizers' digest)."""
    out: list[OverdueItem] = []
    for e in campaign.evaluees:
        rnd = fb.current_round(session, campaign.id, e.key)
        if rnd is None:
            continue
        numbers = [i.number for i in fb.items(session, campaign.id, e.key)]
        out += _status(campaign, rnd, numbers, fb.plans(session, rnd.id), now)[2]
    return out


def board(session: Session, campaign: Campaign, now: datetime) -> list[BoardRow]:
    rows = []
    for e in campaign.evaluees:
        rounds = fb.rounds(session, campaign.id, e.key)
        if not rounds:
            continue
        rnd = rounds[-1]
        numbers = [i.number for i in fb.items(session, campaign.id, e.key)]
        planned, done, overdue = _status(campaign, rnd, numbers, fb.plans(session, rnd.id), now)
        rates = []
        for r in rounds:
            asked, answered, _ = fb.followup_counts(session, r.id)
            if r.survey_started_at is not None:
                rates.append(RoundRate(r.number, r.rate, r.valid, r.survey_closed_at is not None, asked, answered))
        rows.append(BoardRow(e.key, len(fb.contacts(session, campaign.id, e.key)), rnd.number, rnd.deadline,
                             len(numbers), len(planned), len(done), len({i for o in overdue for i in o.items}),
                             rates))
    return rows


def board_text(campaign: Campaign, rows: list[BoardRow], locale: str) -> str:
    """The board as a chat message (HTML)."""
    lines = [f"<b>{escape(t('board.title', locale, title=campaign.text(campaign.title, locale)))}</b>"]
    if not rows:
        lines.append(escape(t("board.none", locale)))
    for r in rows:
        name = campaign.text(campaign.evaluee(r.evaluee).name, locale)
        lines.append(escape(t("board.line", locale, name=name, round=r.round, deadline=r.deadline.isoformat(),
                              items=r.items, planned=r.planned, done=r.done, overdue=r.overdue)))
        if not r.contacts:
            lines.append(escape(t("board.contacts_none", locale)))
        for rr in r.rounds:
            if rr.closed:
                rate = "—" if rr.rate is None else f"{rr.rate * 100:.1f}%"
                lines.append(escape(t("board.rate", locale, round=rr.number, rate=rate, valid=rr.valid or 0)))
            else:
                lines.append(escape(t("board.survey", locale, round=rr.number, answered=rr.answered, asked=rr.asked)))
    out, size = [], 0
    for i, line in enumerate(lines):  # whole lines only: never cut an HTML entity
        if size + len(line) + 1 > 3900:
            out.append(escape(t("common.more", locale, n=len(lines) - i)))
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)
