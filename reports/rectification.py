"""The rectification board: per evaluee, its items, planned, done and overdue, the
round and its deadline, and the follow-up satisfaction rate of each round; and the list
of overdue items (for reminders, escalation and the organizers' digest).

An item is *planned* when a plan of the evaluee's current round answers it, *done* when
such a plan is done, *overdue* when its plan's deadline day has ended undone, or when the
round's deadline day has ended and nothing answers it. An item marked "no rectification
needed" (praise, outside the remit; with a reason) is counted apart as *exempt*: neither
planned nor overdue.

Organizers read every plan (``plan_rows`` / ``plans_text``): the CLI, chat
``/rectification`` and the reports show the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from sqlmodel import Session

from flows import rectification as rf
from flows.campaign import Campaign
from flows.i18n import register, t
from storage.types import PlanStatus
from storage import rectification as rs

register({
    "board.title": {"zh": "整改台账 · {title}", "en": "Rectification board · {title}"},
    "board.none": {"zh": "尚未发布整改通知书。", "en": "No rectification notice has been published yet."},
    "board.line": {"zh": "{name}：第 {round} 轮，截止 {deadline}；意见 {items} 项，已安排 {planned}，已完成 {done}，逾期 {overdue}，无需整改 {exempt}",
                   "en": "{name}: round {round}, due {deadline}; {items} items, {planned} planned, {done} done, {overdue} overdue, {exempt} need none"},
    "board.plans": {"zh": "整改方案 · {name}", "en": "Plans · {name}"},
    "board.no_plans": {"zh": "　（尚未提交整改方案）", "en": "  (no plan filed yet)"},
    "board.round": {"zh": "第 {round} 轮（截止 {deadline}）", "en": "Round {round} (due {deadline})"},
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
    exempt: int = 0  # items answered "no rectification needed"


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


def _status(campaign: Campaign, rnd: rs.RectRound, n_items: list[int], entries: list[rs.RectPlan],
            now: datetime) -> tuple[set[int], set[int], list[OverdueItem]]:
    plans = [p for p in entries if p.kind == "plan"]
    answered = {i for p in entries for i in p.items}
    planned = {i for p in plans for i in p.items}
    done = {i for p in plans if p.status == PlanStatus.DONE for i in p.items}
    overdue: list[OverdueItem] = []
    for p in plans:
        if p.status != PlanStatus.DONE and now >= rs.end_of(p.deadline, campaign.timezone):
            overdue.append(OverdueItem(rnd.evaluee_key, rnd.id, rnd.number, p.id, tuple(p.items), p.measure,
                                       p.owner, p.deadline))
    unplanned = tuple(i for i in n_items if i not in answered)
    if unplanned and now >= rs.end_of(rnd.deadline, campaign.timezone):
        overdue.append(OverdueItem(rnd.evaluee_key, rnd.id, rnd.number, None, unplanned, None, None, rnd.deadline))
    return planned, done, overdue


def overdue_items(session: Session, campaign: Campaign, now: datetime) -> list[OverdueItem]:
    """Overdue items of each evaluee's current round (for the organizers' digest)."""
    out: list[OverdueItem] = []
    for e in campaign.evaluees:
        rnd = rs.current_round(session, campaign.id, e.key)
        if rnd is None:
            continue
        numbers = [i.number for i in rs.items(session, campaign.id, e.key)]
        out += _status(campaign, rnd, numbers, rs.plans(session, rnd.id), now)[2]
    return out


def board(session: Session, campaign: Campaign, now: datetime) -> list[BoardRow]:
    rows = []
    for e in campaign.evaluees:
        rounds = rs.rounds(session, campaign.id, e.key)
        if not rounds:
            continue
        rnd = rounds[-1]
        numbers = [i.number for i in rs.items(session, campaign.id, e.key)]
        entries = rs.plans(session, rnd.id)
        planned, done, overdue = _status(campaign, rnd, numbers, entries, now)
        rates = []
        for r in rounds:
            asked, answered, _ = rs.followup_counts(session, r.id)
            if r.survey_started_at is not None:
                rates.append(RoundRate(r.number, r.rate, r.valid, r.survey_closed_at is not None, asked, answered))
        rows.append(BoardRow(e.key, len(rs.contacts(session, campaign.id, e.key)), rnd.number, rnd.deadline,
                             len(numbers), len(planned), len(done), len({i for o in overdue for i in o.items}),
                             rates, len({i for p in entries if p.kind != "plan" for i in p.items})))
    return rows


def board_text(campaign: Campaign, rows: list[BoardRow], locale: str) -> str:
    """The board as a chat message (HTML)."""
    lines = [f"<b>{escape(t('board.title', locale, title=campaign.text(campaign.title, locale)))}</b>"]
    if not rows:
        lines.append(escape(t("board.none", locale)))
    for r in rows:
        name = campaign.text(campaign.evaluee(r.evaluee).name, locale)
        lines.append(escape(t("board.line", locale, name=name, round=r.round, deadline=r.deadline.isoformat(),
                              items=r.items, planned=r.planned, done=r.done, overdue=r.overdue,
                              exempt=r.exempt)))
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


# --- every plan, for the organizers ---------------------------------------------------------------
@dataclass(frozen=True)
class PlanRow:
    evaluee: str
    round: int
    round_deadline: date
    number: int  # within its round, as the contact sees it
    items: tuple[int, ...]
    kind: str  # plan | praise | remit
    measure: str  # the reason for praise / remit
    owner: str
    deadline: date
    state: str  # done | overdue | planned | praise | remit
    progress: str | None
    progress_at: datetime | None
    done_at: datetime | None


def plan_rows(session: Session, campaign: Campaign, now: datetime) -> list[PlanRow]:
    """Every plan of every round, in campaign evaluee order, then round and filing order."""
    order = {e.key: i for i, e in enumerate(campaign.evaluees)}
    rows, numbering = [], {}
    for rnd, p in sorted(rs.all_plans(session, campaign.id), key=lambda rp: (order.get(rp[0].evaluee_key, 0),
                                                                               rp[0].number, rp[1].id)):
        numbering[rnd.id] = numbering.get(rnd.id, 0) + 1
        if p.kind != "plan":
            state = p.kind
        elif p.status == PlanStatus.DONE:
            state = "done"
        else:
            state = "overdue" if now >= rs.end_of(p.deadline, campaign.timezone) else "planned"
        rows.append(PlanRow(rnd.evaluee_key, rnd.number, rnd.deadline, numbering[rnd.id], tuple(p.items), p.kind,
                            p.measure, p.owner, p.deadline, state, p.progress, p.progress_at, p.done_at))
    return rows


def state_label(state: str, locale: str) -> str:
    return {"done": t("rect.status_done", locale), "overdue": t("rect.status_overdue", locale),
            "planned": t("rect.status_planned", locale)}.get(state) or (
        t("rect.exempt_short", locale, kind=t(f"rect.kind_{state}", locale)))


def plans_text(campaign: Campaign, rows: list[PlanRow], board_rows: list[BoardRow], locale: str) -> list[str]:
    """Every plan per evaluee as chat messages (HTML, each under Telegram's limit)."""
    messages, cur = [], ""
    for b in board_rows:
        name = campaign.text(campaign.evaluee(b.evaluee).name, locale)
        block = [f"<b>{escape(t('board.plans', locale, name=name))}</b>"]
        mine = [r for r in rows if r.evaluee == b.evaluee]
        if not mine:
            block.append(escape(t("board.no_plans", locale)))
        last_round = None
        for r in mine:
            if r.round != last_round:
                block.append(f"<i>{escape(t('board.round', locale, round=r.round, deadline=r.round_deadline.isoformat()))}</i>")
                last_round = r.round
            if r.kind != "plan":
                block.append(escape(t("rect.exempt_line", locale, items=rf.format_items(r.items, locale),
                                      kind=t(f"rect.kind_{r.kind}", locale), reason=r.measure)))
                continue
            line = escape(t("rect.plan_line", locale, id=r.number, items=rf.format_items(r.items, locale),
                            measure=r.measure, owner=r.owner, deadline=r.deadline.isoformat(),
                            status=state_label(r.state, locale)))
            if r.progress:
                line += "\n" + escape(t("rect.progress_line", locale, text=r.progress))
            block.append(line)
        for line in block:
            if len(cur) + len(line) + 1 > 3900:
                messages.append(cur)
                cur = ""
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        messages.append(cur)
    return messages
