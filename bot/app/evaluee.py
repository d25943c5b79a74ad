"""An evaluee's contact in the chat: what ``flows.evaluee`` reads (the code, the evaluee a
person speaks for, the notice, the current round and the plan conversation) and the
appliers of its effects (binding a contact; the notice's is in ``notice.py``, the
follow-up answer's in ``followup.py``, the plan's in ``rectification.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.app import codes, followup, notice, rectification  # noqa: F401  (the appliers of the flow's effects)
from bot.app import effects
from flows import evaluee as ev
from flows import rectification as rf
from flows.campaign import Campaign
from flows.messages import Step
from storage import conversations
from storage import rectification as rs
from storage.models import Conversation, Link, Person

FLOW = "rectification"  # the plan conversation's name in ``storage.conversations``

Load = Callable[[Session, str], Campaign]


# --- binding with a code ---------------------------------------------------------------------------
def code_ctx(session: Session, campaign: Campaign, person: Person, link: Link) -> ev.CodeCtx:
    current = rs.contact_of(session, campaign.id, person.id)
    published = link.evaluee_key is not None and rs.notice(session, campaign.id, link.evaluee_key) is not None
    return ev.CodeCtx(locale=person.locale, person_id=person.id, campaign=campaign,
                      current=current.evaluee_key if current is not None else None,
                      used=link.single_use and link.used_at is not None, published=published)


@effects.applies(ev.BindContact)
def _bind_contact(session: Session, eff: ev.BindContact, **_: object) -> None:
    rs.bind(session, eff.campaign_id, eff.evaluee_key, eff.person_id)


# --- which evaluee a person speaks for ---------------------------------------------------------------
def my_contact(session: Session, person: Person, args: str) -> rs.EvalueeContact | None:
    """The latest evaluee this person speaks for (in the campaign ``args`` names, if any)."""
    mine = list(session.exec(select(rs.EvalueeContact).where(
        rs.EvalueeContact.person_id == person.id, rs.EvalueeContact.unbound_at.is_(None))
        .order_by(rs.EvalueeContact.id.desc())))
    wanted = args.split()[0] if args.split() else None
    if wanted:
        mine = [c for c in mine if c.campaign_id == wanted]
    return mine[0] if mine else None


def round_for(session: Session, person: Person, round_id: int | None) -> rs.RectRound | None:
    """The evaluee's current round, if this person speaks for the evaluee of ``round_id``."""
    rnd = session.get(rs.RectRound, round_id) if round_id is not None else None
    if rnd is None:
        return None
    contact = rs.contact_of(session, rnd.campaign_id, person.id)
    if contact is None or contact.evaluee_key != rnd.evaluee_key:
        return None
    return rs.current_round(session, rnd.campaign_id, rnd.evaluee_key)


def notice_ctx(session: Session, load: Load, person: Person, contact: rs.EvalueeContact | None) -> ev.ContactCtx:
    if contact is None:
        return ev.ContactCtx(person.locale, contact=False)
    campaign = load(session, contact.campaign_id)
    shown = None
    if rs.notice(session, campaign.id, contact.evaluee_key) is not None:
        shown = tuple(notice.notice_messages(session, campaign, notice.tally_of(session, campaign),
                                             contact.evaluee_key, person.locale))
    return ev.ContactCtx(person.locale, contact=True, title=campaign.text(campaign.title, person.locale), notice=shown)


# --- the plan conversation -----------------------------------------------------------------------------
@dataclass
class PlanRead:
    """A plan event's context, and what storing its step needs."""

    ctx: ev.ContactCtx
    rnd: rs.RectRound | None = None
    campaign_id: str | None = None
    conv: Conversation | None = None
    state: rf.RState | None = None  # the plan conversation, where it is (None: not begun)


def plan_read(session: Session, load: Load, person: Person, rnd: rs.RectRound | None, now: datetime,
              contact: bool = True, campaign_id: str | None = None) -> PlanRead:
    """``rnd``: the evaluee's current round (None: no notice yet); ``campaign_id`` names
    the campaign when there is no round (for "not published yet")."""
    if not contact:
        return PlanRead(ev.ContactCtx(person.locale, contact=False))
    campaign = load(session, rnd.campaign_id if rnd is not None else campaign_id)
    title = campaign.text(campaign.title, person.locale)
    if rnd is None:
        return PlanRead(ev.ContactCtx(person.locale, contact=True, title=title), campaign_id=campaign.id)
    conv = conversations.load(session, person.id, campaign.id, FLOW)
    state = rf.RState.model_validate(conv.state) if conv is not None else None
    ctx = ev.ContactCtx(person.locale, contact=True, title=title,
                        round=rectification.ctx(session, campaign, rnd, person.locale, now))
    return PlanRead(ctx, rnd, campaign.id, conv, state)


def plan_store(session: Session, person: Person, read: PlanRead, step: Step, now: datetime) -> None:
    """Apply the step's effects and store where the plan conversation is (nothing for an
    out-of-date button or a refusal)."""
    if step.outcome.stale:
        return
    effects.apply(session, step.effects, rnd=read.rnd, now=now)
    if isinstance(step.state, rf.RState):
        conversations.save(session, person.id, read.campaign_id, FLOW, step.state.model_dump(mode="json"),
                           conv=read.conv)


def waiting_for_text(session: Session, person: Person) -> list[rf.RState]:
    """The person's plan conversations that wait for free text, the latest first."""
    convs = session.exec(select(Conversation).where(Conversation.person_id == person.id, Conversation.flow == FLOW)
                         .order_by(Conversation.updated_at.desc())).all()
    return [state for state in (rf.RState.model_validate(c.state) for c in convs) if state.wants_text]
