"""Enrolment: joining a rater group through a deep link or a single-use code, consent,
the draw's gate on the questionnaire, starting from an invitation, and /stop.

Flow: link -> explanation + anonymity + consent (buttons ``Cy``/``Cn``, language ``CL…``)
-> open group or after-service link: the questionnaire at once; sampled group: in the
draw's pool, then an invitation if drawn (button ``Cs``). Enrolment is possible while a
campaign is upcoming or open, never after it closed.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from bot.chat import Feature
from bot.service import QUESTIONNAIRE, Incoming, Reply, Service
from flows import chat
from flows.campaign import Campaign
from storage import campaigns, conversations, draw, links, people
from storage.models import Link, Membership, Outbox, Person


def _closed_notice(svc: Service, s: Session, campaign: Campaign, person: Person) -> Reply | None:
    row = campaigns.phase_row(s, campaign.id)
    if campaigns.phase(row, svc.clock()) == "closed":
        return Reply([svc.phase_notice(campaign, row, person.locale)])
    return None


def _label(campaign: Campaign, group_key: str, locale: str) -> str:
    return campaign.text(campaign.group(group_key).label, locale)


def _join(svc: Service, s: Session, person: Person, campaign: Campaign, group_key: str,
          unit: str | None = None, only: str | None = None, code: Link | None = None) -> Reply:
    """Enrol (unconsented) and show the consent screen, or resume an existing membership."""
    existing = people.membership(s, campaign.id, person.id)
    if existing is not None and existing.group_key != group_key:
        return Reply([chat.say("chat.already_enrolled", person.locale, group=_label(campaign, existing.group_key,
                                                                                   person.locale))])
    if existing is None:
        if code is not None and not links.redeem(s, code, svc.clock()):
            return Reply([chat.say("enrol.code_used", person.locale)])
        existing = people.enrol(s, campaign.id, person, group_key, unit=unit)
        existing.consented = False
        existing.only_evaluee = only
    elif existing.status == "opted_out":  # re-opening a link after /stop re-joins, with consent again
        existing.status = "drawn" if existing.drawn_round else "enrolled"
        existing.consented = False
    person.current_campaign = campaign.id
    s.add_all([person, existing])
    if not existing.consented:
        return Reply([chat.consent_screen(campaign, person.locale, group_key, existing.only_evaluee)])
    return _after_consent(svc, s, person, existing, campaign)


def _after_consent(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign) -> Reply:
    """What a consented member sees: the questionnaire, or where they stand in the draw."""
    g = campaign.group(member.group_key)
    sampled = not g.open and bool(g.sample) and member.only_evaluee is None
    if sampled and member.drawn_round is None:
        return Reply([_draw_notice(s, campaign, member, person.locale)])
    row = campaigns.phase_row(s, campaign.id)
    if (notice := svc.phase_notice(campaign, row, person.locale)) is not None:
        return Reply([notice])
    return svc.begin(s, person, member, campaign)


def _draw_notice(s: Session, campaign: Campaign, member: Membership, locale: str):  # noqa: ANN202
    """For a consented, undrawn member of a sampled group."""
    group = _label(campaign, member.group_key, locale)
    row = draw.get(s, campaign.id)
    if row is None:
        return chat.say("enrol.pooled", locale, group=group)
    if not draw.in_pool(s, member.id):
        return chat.say("enrol.pool_frozen", locale, group=group)
    return chat.say("enrol.wait_draw" if row.revealed_at is None else "enrol.not_drawn", locale)


# --- deep links -------------------------------------------------------------------------
def on_group_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    campaign = svc.campaign(s, link.campaign_id)
    if (notice := _closed_notice(svc, s, campaign, person)) is not None:
        return notice
    if campaign.group(link.group_key).by_codes:
        member = people.membership(s, campaign.id, person.id)
        if member is None or member.group_key != link.group_key:
            return Reply([chat.say("enrol.codes_only", person.locale, group=_label(campaign, link.group_key,
                                                                                  person.locale))])
    return _join(svc, s, person, campaign, link.group_key, link.unit)


def on_code(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    """A single-use code for a closed group (deputies, unit staff: bound to their unit)."""
    campaign = svc.campaign(s, link.campaign_id)
    if (notice := _closed_notice(svc, s, campaign, person)) is not None:
        return notice
    return _join(svc, s, person, campaign, link.group_key, link.unit, code=link)


def on_service_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    """After-service link (一事一评): rate this one evaluee, no draw."""
    campaign = svc.campaign(s, link.campaign_id)
    if (notice := _closed_notice(svc, s, campaign, person)) is not None:
        return notice
    group = link.group_key or campaign.service_group_key
    return _join(svc, s, person, campaign, group, only=link.evaluee_key)


# --- taps ---------------------------------------------------------------------------------
def on_tap(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply | None:
    member = svc.membership(s, person)
    if member is None or member.status == "opted_out":
        return None  # stale
    campaign = svc.campaign(s, member.campaign_id)
    data = inc.data
    if data.startswith("CL"):
        loc = data[2:]
        if loc not in campaign.locales:
            return None
        person.locale = loc
        s.add(person)
        if not member.consented:
            return Reply([chat.consent_screen(campaign, loc, member.group_key, member.only_evaluee)])
        return Reply([chat.say("chat.lang_set", loc)])
    if data == chat.CONSENT_YES:
        if (notice := _closed_notice(svc, s, campaign, person)) is not None:
            return notice
        member.consented = True
        s.add(member)
        return _after_consent(svc, s, person, member, campaign)
    if data == chat.CONSENT_NO and not member.consented:
        person.current_campaign = None
        s.add(person)
        g = campaign.group(member.group_key)
        if g.by_codes or member.drawn_round is not None or draw.in_pool(s, member.id):
            # Kept, opted out: their code stays theirs to reopen, a frozen pool stays intact.
            member.status = "opted_out"
            s.add(member)
        else:
            s.delete(member)
        return Reply([chat.say("enrol.declined", person.locale)])
    if data == chat.START and member.consented:
        if member.submitted:
            return Reply([chat.say("chat.done", person.locale)])
        return _after_consent(svc, s, person, member, campaign)
    return None


def gate(svc: Service, s: Session, person: Person, member: Membership, campaign: Campaign,
         inc: Incoming) -> Reply | None:
    """Before any questionnaire step: consent first; in a sampled group, only the drawn."""
    if not member.consented:
        return Reply([chat.consent_screen(campaign, person.locale, member.group_key, member.only_evaluee)])
    g = campaign.group(member.group_key)
    if g.open or not g.sample or member.only_evaluee is not None or member.drawn_round is not None:
        return None
    notice = _draw_notice(s, campaign, member, person.locale)
    return Reply(toast=notice.text) if inc.kind == "tap" else Reply([notice])


# --- /stop ----------------------------------------------------------------------------------
def on_stop(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    member = svc.membership(s, person)
    if member is None:
        return Reply([chat.say("chat.help", person.locale)])
    # After submit the ballot stays counted; opting out still stops every later message
    # (e.g. the rectification follow-up survey).
    member.status = "opted_out"
    s.add(member)
    conv = conversations.load(s, person.id, member.campaign_id, QUESTIONNAIRE)
    if conv is not None:
        s.delete(conv)
    # Nothing more of any kind: invitations or reminders still waiting are dropped too.
    cid = member.campaign_id
    s.execute(update(Outbox).where(Outbox.chat_id == person.chat_id, Outbox.status == "pending",
                                   Outbox.dedupe_key.like(f"invite:{cid}:%") | Outbox.dedupe_key.like(f"remind:{cid}:%"))
              .values(status="failed", error="opted out (/stop)"),
              execution_options={"synchronize_session": False})
    return Reply([chat.say("chat.stopped", person.locale)])


FEATURE = Feature("enrolment", commands={"stop": on_stop},
                  links={"group": on_group_link, "code": on_code, "service": on_service_link},
                  taps={"C": on_tap}, gate=gate)
