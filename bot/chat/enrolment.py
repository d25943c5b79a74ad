"""Enrolment: joining a rater group through a deep link or a single-use code, consent,
the draw's gate on the questionnaire, starting from an invitation, and /stop.

The rules are the pure step ``flows.enrolment``; this entry reads its context and
applies its effects (``bot/app/enrolment.py``) in the event's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace

from sqlmodel import Session

from bot.app import enrolment as app
from bot.chat import Feature
from bot.events import Incoming, Reply
from flows import chat
from flows import enrolment as fe
from flows.codes import CodeUsed
from flows.campaign import Campaign
from storage import people
from storage.models import Link, Membership, Person

if TYPE_CHECKING:
    from bot.service import Service


def _run(svc: Service, s: Session, person: Person, campaign: Campaign, member: Membership | None,
         event: fe.Event, code: Link | None = None) -> Reply:
    """check -> step -> do."""
    ctx = app.check_context(svc, s, person, campaign, member, code)
    step = fe.step(ctx, None, event)
    try:
        return app.do(svc, s, app.Target(svc, person, campaign, member, code), step)
    except CodeUsed:  # redeemed by someone else meanwhile (it is applied first: nothing else was)
        return app.do(svc, s, app.Target(svc, person, campaign, member),
                      fe.step(replace(ctx, code_redeemable=False), None, event))


# --- deep links -------------------------------------------------------------------------
def _on_link(svc: Service, s: Session, person: Person, link: Link, event: fe.Event) -> Reply:
    campaign = svc.campaign(s, link.campaign_id)
    member = people.membership(s, campaign.id, person.id)
    return _run(svc, s, person, campaign, member, event, code=link if link.kind == "code" else None)


def on_group_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    return _on_link(svc, s, person, link, fe.GroupLink(link.group_key, link.unit))


def on_code(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    """A single-use code for a closed group (deputies, unit staff: bound to their unit)."""
    return _on_link(svc, s, person, link, fe.Code(link.group_key, link.unit, link.token))


def on_service_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    """After-service link (一事一评): rate this one evaluee, no draw."""
    return _on_link(svc, s, person, link, fe.ServiceLink(link.evaluee_key, link.group_key))


# --- taps ---------------------------------------------------------------------------------
def _tap_event(data: str) -> fe.Event | None:
    if data.startswith(chat.ENROL_LANGUAGE):
        return fe.Language(data.removeprefix(chat.ENROL_LANGUAGE))
    return {chat.CONSENT_YES: fe.ConsentYes(), chat.CONSENT_NO: fe.ConsentNo(), chat.START: fe.Start()}.get(data)


def on_tap(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply | None:
    member = svc.membership(s, person)
    event = _tap_event(inc.data)
    if member is None or event is None:
        return None  # stale
    return _run(svc, s, person, svc.campaign(s, member.campaign_id), member, event)


def gate(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign,
         inc: Incoming) -> Reply | None:
    """Before any questionnaire step: consent first; in a sampled group, only the drawn.
    Read-only (the fast path calls it with plain records)."""
    refusal = fe.gate(app.check_gate(s, person, member, campaign, svc.clock()), tap=inc.kind == "tap")
    return None if refusal is None else Reply(list(refusal.messages), refusal.toast)


# --- /stop ----------------------------------------------------------------------------------
def on_stop(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    member = svc.membership(s, person)
    step = fe.step(app.check_stop(svc, person, member), None, fe.Stop())
    return app.do(svc, s, app.Target(svc, person, None, member), step)


FEATURE = Feature("enrolment", commands={"stop": on_stop},
                  links={"group": on_group_link, "code": on_code, "service": on_service_link},
                  taps={"C": on_tap}, gate=gate)
