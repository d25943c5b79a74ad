"""Evaluees in the chat: binding a contact with a single-use evaluee code (link kind
``evaluee``), ``/notice`` (the rectification notice again), ``/plan`` (filing the plan:
taps ``R…`` and free text while a step expects it), the raters' follow-up answers
(taps ``F…``) and the organizers' ``/rectification``: the board, then every plan.

Thin entries: read the context (``bot.app.evaluee``, ``bot.app.followup``,
``bot.app.organizer``), step the pure rules (``flows.evaluee``, ``flows.organizer``),
apply the effects in the event's transaction. An evaluee's contact sees only that
evaluee's notice and plan. Follow-up answers are stored without the person
(``storage.rectification.answer``) and nothing here logs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.app import effects, followup
from bot.app import evaluee as app
from bot.app import organizer as org_app
from bot.chat import Feature
from bot.events import Incoming, Reply
from flows import evaluee as ev
from flows import organizer as org
from flows import rectification as rf
from flows.codes import CodeUsed
from flows.messages import Step
from storage import rectification as rs
from storage.models import Link, Person

if TYPE_CHECKING:
    from bot.service import Service


def _reply(step: Step) -> Reply:
    return Reply(step.outcome.messages, step.outcome.toast)


# --- binding ----------------------------------------------------------------------------------
def on_evaluee_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    campaign = svc.campaign(s, link.campaign_id)
    ctx = app.code_ctx(s, campaign, person, link)
    event = ev.Code(link.token, link.evaluee_key)
    step = ev.step(ctx, None, event)
    try:
        effects.apply(s, step.effects, now=svc.clock(), campaign=campaign)
    except CodeUsed:  # used meanwhile by a concurrent redemption: nothing was written
        step = ev.step(replace(ctx, used=True), None, event)
    return _reply(step)


# --- the notice and the plan ----------------------------------------------------------------------
def on_notice(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    ctx = app.notice_ctx(s, svc.campaign, person, app.my_contact(s, person, inc.text))
    return _reply(ev.step(ctx, None, ev.Notice()))


def _plan(s: Session, person: Person, read: app.PlanRead, event: ev.Event, now: datetime) -> Reply:
    step = ev.step(read.ctx, read.state, event)
    app.plan_store(s, person, read, step, now)
    return _reply(step)


def on_plan(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    contact = app.my_contact(s, person, inc.text)
    rnd = rs.current_round(s, contact.campaign_id, contact.evaluee_key) if contact is not None else None
    now = svc.clock()
    read = app.plan_read(s, svc.campaign, person, rnd, now, contact=contact is not None,
                         campaign_id=contact.campaign_id if contact is not None else None)
    return _plan(s, person, read, ev.Plan(), now)


def on_rect_tap(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    rnd = app.round_for(s, person, rf.round_of(inc.data))
    now = svc.clock()
    read = app.plan_read(s, svc.campaign, person, rnd, now, contact=rnd is not None)
    return _plan(s, person, read, ev.PlanTap(inc.data), now)


def on_text(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply | None:
    """Claim free text only while a plan step waits for it."""
    for state in app.waiting_for_text(s, person):
        rnd = app.round_for(s, person, state.round_id)
        if rnd is None:
            continue
        now = svc.clock()
        return _plan(s, person, app.plan_read(s, svc.campaign, person, rnd, now), ev.PlanText(inc.text), now)
    return None


# --- follow-up answers --------------------------------------------------------------------------
def on_followup_tap(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    ctx = followup.answer_ctx(s, svc.campaign, person, inc.data)
    step = ev.step(ctx, None, ev.Answer(inc.data))
    try:
        effects.apply(s, step.effects)
    except rs.NotAsked:  # lost a race (the UPDATE is conditional): nothing was written
        step = ev.step(replace(ctx, asked=False), None, ev.Answer(inc.data))
    except rs.AlreadyAnswered:
        step = ev.step(replace(ctx, answered=True), None, ev.Answer(inc.data))
    return _reply(step)


# --- organizers --------------------------------------------------------------------------------------
def on_board(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    ctx = org_app.ctx(s, svc.campaign, person, inc.text, report="rectification", now=svc.clock())
    return _reply(org.step(ctx, None, org.Board(inc.text)))


FEATURE = Feature(
    "evaluee",
    commands={"notice": on_notice, "plan": on_plan, "rectification": on_board},
    links={"evaluee": on_evaluee_link},
    taps={"R": on_rect_tap, "F": on_followup_tap},
    text=on_text,
)
