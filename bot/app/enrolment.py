"""Enrolment and consent, wired: what the pure step (``flows.enrolment``) reads from the
database (``check_*``), and its effects applied in the event's transaction (``do``, one
applier per effect type). ``bot/chat/enrolment.py`` is the entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.app import codes  # noqa: F401  (RedeemCode's applier)
from bot.app import effects
from bot.app.questionnaire import QUESTIONNAIRE
from bot.events import Reply
from flows import enrolment as fe
from flows.campaign import Campaign
from flows.messages import Step
from storage import campaigns, conversations, draw, outbox, people
from storage.models import Link, MemberStatus, Membership, Person

if TYPE_CHECKING:
    from bot.service import Service


# --- check: the context the step decides on ----------------------------------------------
def member_view(member: object | None) -> fe.Member | None:
    """A membership as the pure rules see it: from a ``Membership`` row or a plain
    ``storage.conversations.MemberRecord`` (which lacks the dates and visits)."""
    if member is None:
        return None
    return fe.Member(group_key=member.group_key, unit=member.unit, status=str(member.status),
                     consented=member.consented, submitted=member.submitted, drawn_round=member.drawn_round,
                     only_evaluee=member.only_evaluee, invited_at=getattr(member, "invited_at", None),
                     enrolled_at=getattr(member, "enrolled_at", None), visits=getattr(member, "visits", 1))


def check_draw(s: Session, campaign_id: str, member_id: int | None) -> fe.Draw:
    row = draw.get(s, campaign_id)
    if row is None:
        return fe.Draw()
    return fe.Draw(committed=True, revealed=row.revealed_at is not None,
                   in_pool=member_id is not None and draw.in_pool(s, member_id))


def check_context(svc: Service, s: Session, person: Person, campaign: Campaign, member: Membership | None,
                  code: Link | None = None) -> fe.Ctx:
    now = svc.clock()
    row = svc.phase_row(s, person, campaign.id)  # as read with the person's context, if it was
    return fe.Ctx(campaign=campaign, locale=person.locale, now=now, phase=campaigns.phase(row, now),
                  phase_notice=svc.phase_notice(campaign, row, person.locale), member=member_view(member),
                  draw=check_draw(s, campaign.id, member.id if member is not None else None),
                  code_redeemable=code is None or not code.single_use or code.used_at is None)


def check_stop(svc: Service, person: Person, member: Membership | None) -> fe.Ctx:
    """/stop needs only the membership (of any campaign: no campaign is read)."""
    return fe.Ctx(campaign=None, locale=person.locale, now=svc.clock(), member=member_view(member))


def check_gate(s: Session, person: object, member: object, campaign: Campaign, now: datetime) -> fe.Ctx:
    """The gate's context: read-only, and the draw only where it matters (the cheap path
    of a questionnaire tap reads nothing more for a consented, drawn or open-group rater)."""
    view = member_view(member)
    d = check_draw(s, campaign.id, member.id) if fe.draw_matters(campaign, view) else fe.Draw()
    return fe.Ctx(campaign=campaign, locale=person.locale, now=now, member=view, draw=d)


# --- do: the effects -----------------------------------------------------------------------
@dataclass
class Target:
    """What the appliers work on: the event's person and membership (``Enrol`` creates it),
    the code being redeemed, and the questionnaire's reply once begun."""

    svc: Service
    person: Person
    campaign: Campaign | None
    member: Membership | None
    code: Link | None = None
    reply: Reply | None = None


def do(svc: Service, s: Session, target: Target, step: Step) -> Reply:
    """Apply the step's effects (inside the event's transaction) and make its reply."""
    effects.apply(s, step.effects, target=target, now=svc.clock())
    reply = Reply(list(step.outcome.messages), step.outcome.toast)
    if target.reply is not None:  # the questionnaire was shown
        target.reply.messages[:0] = reply.messages
        return target.reply
    return reply


def _member(target: Target) -> Membership:
    if target.member is None:
        raise RuntimeError("no membership to apply an enrolment effect to")
    return target.member


@effects.applies(fe.Enrol)
def _enrol(s: Session, eff: fe.Enrol, target: Target, **_: object) -> None:
    # Enrol is stepped only for a person without a membership (read in this transaction)
    m = people.enrol(s, target.campaign.id, target.person, eff.group_key, unit=eff.unit, new=target.member is None)
    m.consented = False
    m.only_evaluee = eff.only_evaluee
    s.add(m)
    target.member = m


@effects.applies(fe.Rejoin)
def _rejoin(s: Session, eff: fe.Rejoin, target: Target, **_: object) -> None:
    m = _member(target)
    m.status, m.consented = MemberStatus(eff.status), False
    s.add(m)


@effects.applies(fe.SetCurrentCampaign)
def _set_current(s: Session, eff: fe.SetCurrentCampaign, target: Target, **_: object) -> None:
    target.person.current_campaign = eff.campaign_id
    s.add(target.person)


@effects.applies(fe.SetLocale)
def _set_locale(s: Session, eff: fe.SetLocale, target: Target, **_: object) -> None:
    target.person.locale = eff.locale
    s.add(target.person)


@effects.applies(fe.Consent)
def _consent(s: Session, eff: fe.Consent, target: Target, **_: object) -> None:  # noqa: ARG001
    m = _member(target)
    m.consented = True
    s.add(m)


@effects.applies(fe.OptOut)
def _opt_out(s: Session, eff: fe.OptOut, target: Target, **_: object) -> None:  # noqa: ARG001
    m = _member(target)
    m.status = MemberStatus.OPTED_OUT
    s.add(m)


@effects.applies(fe.Forget)
def _forget(s: Session, eff: fe.Forget, target: Target, **_: object) -> None:  # noqa: ARG001
    s.delete(_member(target))


@effects.applies(fe.MarkInvited)
def _mark_invited(s: Session, eff: fe.MarkInvited, target: Target, **_: object) -> None:
    m = _member(target)
    m.invited_at = eff.at
    s.add(m)


@effects.applies(fe.NextVisit)
def _next_visit(s: Session, eff: fe.NextVisit, target: Target, **_: object) -> None:
    m = _member(target)
    m.submitted, m.status, m.only_evaluee = False, MemberStatus.ENROLLED, eff.evaluee_key
    m.visits, m.invited_at, m.reminders_sent = m.visits + 1, eff.at, 0
    s.add(m)


@effects.applies(fe.DiscardDraft)
def _discard_draft(s: Session, eff: fe.DiscardDraft, target: Target, **_: object) -> None:  # noqa: ARG001
    conv = conversations.load(s, target.person.id, _member(target).campaign_id, QUESTIONNAIRE)
    if conv is not None:
        s.delete(conv)


@effects.applies(fe.CancelPrompts)
def _cancel_prompts(s: Session, eff: fe.CancelPrompts, target: Target, **_: object) -> None:  # noqa: ARG001
    outbox.cancel_pending(s, target.person.chat_id, _member(target).campaign_id, outbox.PROMPTS, "opted out (/stop)",
                         channel=target.person.channel)


@effects.applies(fe.BeginQuestionnaire)
def _begin(s: Session, eff: fe.BeginQuestionnaire, target: Target, **_: object) -> None:  # noqa: ARG001
    target.reply = target.svc.begin(s, target.person, _member(target), target.campaign)
