"""Rectification rounds: the plan-filing context and its effects, reminders before each
deadline, overdue notices to the contacts and escalation to the organizers."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from sqlmodel import Session

from bot.app import effects
from bot.app.audience import locale_for, name_of, organizers
from flows import rectification as rf
from flows.campaign import Campaign
from flows.i18n import register, t
from flows.messages import Button
from storage import outbox
from storage import rectification as rs
from storage.types import PlanStatus

REMIND_DAYS = 2  # reminder this many days before a deadline

register({
    "rem.due": {"zh": "提醒：「{name}」的整改方案{id}（第 {items} 项）将于 {deadline} 到期，请及时完成并报告进展。",
                "en": "Reminder: plan {id} of “{name}” (items {items}) is due on {deadline}; please finish it and report progress."},
    "rem.round_due": {"zh": "提醒：「{name}」第 {round} 轮整改将于 {deadline} 截止，第 {items} 项尚未制定整改方案。",
                      "en": "Reminder: round {round} for “{name}” ends on {deadline}; items {items} have no plan yet."},
    "rem.overdue": {"zh": "⚠️「{name}」的整改方案{id}（第 {items} 项）已于 {deadline} 到期仍未完成，已报告组织者。",
                    "en": "⚠️ Plan {id} of “{name}” (items {items}) was due on {deadline} and is not done; the organizers have been told."},
    "rem.unplanned": {"zh": "⚠️「{name}」第 {round} 轮整改已于 {deadline} 截止，第 {items} 项没有整改方案，已报告组织者。",
                      "en": "⚠️ Round {round} for “{name}” ended on {deadline}; items {items} have no plan. The organizers have been told."},
    "esc.overdue": {"zh": "整改逾期（{title}）：{name} 方案{id}（第 {items} 项：{measure}；责任人 {owner}）应于 {deadline} 完成，至今未完成。",
                    "en": "Overdue rectification ({title}): {name}, plan {id} (items {items}: {measure}; owner {owner}) was due on {deadline} and is not done."},
    "esc.unplanned": {"zh": "整改逾期（{title}）：{name} 第 {round} 轮已于 {deadline} 截止，第 {items} 项没有整改方案。",
                      "en": "Overdue rectification ({title}): {name}, round {round} ended on {deadline}; items {items} have no plan."},
})


# --- the plan-filing context ------------------------------------------------------------------
def plan_views(session: Session, round_id: int) -> tuple[rf.PlanView, ...]:
    return tuple(rf.PlanView(p.id, tuple(p.items), p.measure, p.owner, p.deadline, p.status == PlanStatus.DONE, p.progress,
                             p.kind) for p in rs.plans(session, round_id))


def ctx(session: Session, campaign: Campaign, rnd: rs.RectRound, locale: str, now: datetime) -> rf.Ctx:
    earlier = tuple((r.number, plan_views(session, r.id)) for r in rs.rounds(session, campaign.id, rnd.evaluee_key)
                    if r.number < rnd.number)
    return rf.Ctx(round_id=rnd.id, round_number=rnd.number, evaluee_name=name_of(campaign, rnd.evaluee_key, locale),
                  locale=locale, today=rs.local_today(now, campaign.timezone), round_deadline=rnd.deadline,
                  items=tuple(i.number for i in rs.items(session, campaign.id, rnd.evaluee_key)),
                  plans=plan_views(session, rnd.id), earlier=earlier)


@effects.applies(rf.SavePlan)
def _save_plan(session: Session, eff: rf.SavePlan, rnd: rs.RectRound, now: datetime) -> None:  # noqa: ARG001
    rs.add_plan(session, rnd.id, list(eff.items), eff.measure, eff.owner, eff.deadline, eff.kind)


@effects.applies(rf.SaveProgress)
def _save_progress(session: Session, eff: rf.SaveProgress, rnd: rs.RectRound, now: datetime) -> None:
    plan = session.get(rs.RectPlan, eff.plan_id)
    if plan is not None and plan.round_id == rnd.id:  # a plan of this round only
        rs.record_progress(session, plan, eff.text, now)


@effects.applies(rf.MarkDone)
def _mark_done(session: Session, eff: rf.MarkDone, rnd: rs.RectRound, now: datetime) -> None:
    plan = session.get(rs.RectPlan, eff.plan_id)
    if plan is not None and plan.round_id == rnd.id and plan.kind == "plan":
        rs.mark_done(session, plan, now)


# --- reminders, overdue, escalation -----------------------------------------------------------
def open_button(rnd: rs.RectRound, locale: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("fb.start", locale), rf.action("m", rnd.id)),),)


def remind(session: Session, campaign: Campaign, rnd: rs.RectRound, now: datetime) -> int:
    """Reminders before each deadline, overdue notices to the contacts, escalation to the
    organizers; each at most once (dedupe keys per plan / round and person)."""
    tz = campaign.timezone
    today = rs.local_today(now, tz)
    plans = rs.plans(session, rnd.id)
    numbers = [i.number for i in rs.items(session, campaign.id, rnd.evaluee_key)]
    people = rs.contacts(session, campaign.id, rnd.evaluee_key, reachable=True)
    orgs = organizers(session, campaign)
    n = 0

    def local(kw: dict, loc: str) -> dict:
        return {k: rf.format_items(v, loc) if isinstance(v, tuple | list) else v for k, v in kw.items()}

    def to_contacts(key: str, text_key: str, **kw: object) -> None:
        nonlocal n
        for p in people:
            text = escape(t(text_key, p.locale, name=name_of(campaign, rnd.evaluee_key, p.locale), **local(kw, p.locale)))
            n += outbox.enqueue(session, p.chat_id, "reminder", text, open_button(rnd, p.locale),
                                dedupe_key=f"{key}:{p.id}", campaign_id=campaign.id,
                                channel=p.channel) is not None

    def to_organizers(key: str, text_key: str, **kw: object) -> None:
        nonlocal n
        for chat in orgs:
            loc = locale_for(session, campaign, chat)
            text = escape(t(text_key, loc, title=campaign.text(campaign.title, loc),
                            name=name_of(campaign, rnd.evaluee_key, loc), **local(kw, loc)))
            n += outbox.enqueue(session, chat, "notice", text, dedupe_key=f"{key}:{chat}",
                                campaign_id=campaign.id) is not None

    for k, p in enumerate(plans, 1):
        if p.status == PlanStatus.DONE or p.kind != "plan":  # "no rectification needed": no deadline to miss
            continue
        items_zh = tuple(p.items)
        if now >= rs.end_of(p.deadline, tz):
            to_contacts(f"rect:over:{p.id}", "rem.overdue", id=k, items=items_zh, deadline=p.deadline.isoformat())
            to_organizers(f"rect:esc:{p.id}", "esc.overdue", id=k, items=items_zh, measure=p.measure,
                          owner=p.owner, deadline=p.deadline.isoformat())
        elif today >= p.deadline - timedelta(days=REMIND_DAYS):
            to_contacts(f"rect:due:{p.id}", "rem.due", id=k, items=items_zh, deadline=p.deadline.isoformat())
    planned = {i for p in plans for i in p.items}
    unplanned = [i for i in numbers if i not in planned]
    if unplanned:
        items = tuple(unplanned)
        if now >= rs.end_of(rnd.deadline, tz):
            to_contacts(f"rect:unpl:{rnd.id}", "rem.unplanned", round=rnd.number, items=items,
                        deadline=rnd.deadline.isoformat())
            to_organizers(f"rect:escu:{rnd.id}", "esc.unplanned", round=rnd.number, items=items,
                          deadline=rnd.deadline.isoformat())
        elif today >= rnd.deadline - timedelta(days=REMIND_DAYS):
            to_contacts(f"rect:rdue:{rnd.id}", "rem.round_due", round=rnd.number, items=items,
                        deadline=rnd.deadline.isoformat())
    return n
