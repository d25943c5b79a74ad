"""Evaluees in the chat: binding a contact with a single-use evaluee code (link kind
``evaluee``), ``/notice`` (the rectification notice again), ``/plan`` (filing the plan:
taps ``R…`` and free text while a step expects it), the raters' follow-up answers
(taps ``F…``) and the organizers' ``/rectification`` board.

An evaluee's contact sees only that evaluee's notice and plan; anyone else using these
commands is told they are not available. Follow-up answers are stored without the
person (``storage.feedback.answer``) and nothing here logs them.
"""

from __future__ import annotations

from html import escape

from sqlmodel import Session, select

from bot import feedback
from bot.chat import Feature
from bot.service import Incoming, Reply, Service
from flows import rectification as rf
from flows.i18n import register, t
from flows.messages import Message
from reports import rectification as boards
from storage import conversations, links
from storage import feedback as fb
from storage.models import Conversation, Link, Person

FLOW = "rectification"

register({
    "ev.not_available": {"zh": "此功能仅对被评议对象的联系人开放。", "en": "This command is not available to you."},
    "ev.bound": {"zh": "您已登记为「{title}」中「{name}」的联系人。评议结束并发布后，整改通知书将发送到这里。",
                 "en": "You are now the contact of “{name}” in “{title}”. The rectification notice will come here once the results are published."},
    "ev.bound_published": {"zh": "您已登记为「{title}」中「{name}」的联系人。整改通知书随后发送给您。",
                           "en": "You are now the contact of “{name}” in “{title}”. The rectification notice follows."},
    "ev.already": {"zh": "您已经是「{name}」的联系人。发送 /notice 查看整改通知书，/plan 制定整改方案。",
                   "en": "You are already the contact of “{name}”. Send /notice for the notice, /plan for the plan."},
    "ev.other": {"zh": "您已经是本次评议中「{name}」的联系人，不能再登记为其他对象的联系人。",
                 "en": "You are already the contact of “{name}” in this evaluation and cannot speak for another evaluee."},
    "ev.code_used": {"zh": "这个联系人码已被使用。每个码只能使用一次，请向组织者索取新的。",
                     "en": "This contact code has been used already. Each code works once; please ask the organizers for a new one."},
    "ev.not_published": {"zh": "「{title}」的整改通知书尚未发布，发布后会发送给您。",
                         "en": "The notice of “{title}” is not published yet; it will be sent to you when it is."},
    "ev.stale": {"zh": "此按钮已失效。", "en": "This button is out of date."},
    "org.board_not_available": {"zh": "此功能仅对评议组织者开放。", "en": "This command is not available to you."},
})


def _say(key: str, locale: str, **kw: object) -> Message:
    return Message(escape(t(key, locale, **kw)))


def _not_available(person: Person, inc: Incoming | None = None) -> Reply:
    if inc is not None and inc.kind == "tap":
        return Reply(toast=t("ev.not_available", person.locale))
    return Reply([_say("ev.not_available", person.locale)])


# --- binding ----------------------------------------------------------------------------------
def on_evaluee_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    campaign = svc.campaign(s, link.campaign_id)
    loc = person.locale
    if link.evaluee_key not in {e.key for e in campaign.evaluees}:
        return Reply([_say("chat.bad_link", loc)])
    name = feedback.name_of(campaign, link.evaluee_key, loc)
    title = campaign.text(campaign.title, loc)
    current = fb.contact_of(s, campaign.id, person.id)
    if current is not None:  # checked before the code is used up
        if current.evaluee_key == link.evaluee_key:
            return Reply([_say("ev.already", loc, name=name)])
        return Reply([_say("ev.other", loc, name=feedback.name_of(campaign, current.evaluee_key, loc))])
    if not links.redeem(s, link, svc.clock()):
        return Reply([_say("ev.code_used", loc)])
    fb.bind(s, campaign.id, link.evaluee_key, person.id)
    if fb.notice(s, campaign.id, link.evaluee_key) is not None:
        # Published already: the notice comes through the outbox like everyone's.
        result = feedback.tally_of(s, campaign)
        feedback.enqueue_notice(s, campaign, result, link.evaluee_key, person)
        return Reply([_say("ev.bound_published", loc, name=name, title=title)])
    return Reply([_say("ev.bound", loc, name=name, title=title)])


# --- which evaluee a person speaks for ------------------------------------------------------------
def _contacts(s: Session, person: Person) -> list[fb.EvalueeContact]:
    return list(s.exec(select(fb.EvalueeContact).where(
        fb.EvalueeContact.person_id == person.id, fb.EvalueeContact.unbound_at.is_(None))
        .order_by(fb.EvalueeContact.id.desc())))


def _my_contact(s: Session, person: Person, args: str) -> fb.EvalueeContact | None:
    mine = _contacts(s, person)
    wanted = args.split()[0] if args.split() else None
    if wanted:
        mine = [c for c in mine if c.campaign_id == wanted]
    return mine[0] if mine else None


def on_notice(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    contact = _my_contact(s, person, inc.text)
    if contact is None:
        return _not_available(person)
    campaign = svc.campaign(s, contact.campaign_id)
    if fb.notice(s, campaign.id, contact.evaluee_key) is None:
        return Reply([_say("ev.not_published", person.locale, title=campaign.text(campaign.title, person.locale))])
    result = feedback.tally_of(s, campaign)
    return Reply(feedback.notice_messages(s, campaign, result, contact.evaluee_key, person.locale))


def _step(svc: Service, s: Session, person: Person, rnd: fb.RectRound, event: object) -> Reply:
    campaign = svc.campaign(s, rnd.campaign_id)
    now = svc.clock()
    ctx = feedback.ctx(s, campaign, rnd, person.locale, now)
    conv = conversations.load(s, person.id, campaign.id, FLOW)
    state = rf.RState.model_validate(conv.state) if conv is not None else rf.start(rnd.id)
    result = rf.step(ctx, state, event)
    if result.stale:
        return Reply(toast=t("ev.stale", person.locale))
    feedback.apply(s, rnd, result.effects, now)
    conversations.save(s, person.id, campaign.id, FLOW, result.state.model_dump(mode="json"), conv=conv)
    return Reply(result.messages, result.toast)


def on_plan(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    contact = _my_contact(s, person, inc.text)
    if contact is None:
        return _not_available(person)
    rnd = fb.current_round(s, contact.campaign_id, contact.evaluee_key)
    if rnd is None:
        campaign = svc.campaign(s, contact.campaign_id)
        return Reply([_say("ev.not_published", person.locale, title=campaign.text(campaign.title, person.locale))])
    return _step(svc, s, person, rnd, rf.Show())


def _round_for(s: Session, person: Person, round_id: int | None) -> fb.RectRound | None:
    """The evaluee's current round, if this person speaks for that evaluee."""
    rnd = s.get(fb.RectRound, round_id) if round_id is not None else None
    if rnd is None:
        return None
    contact = fb.contact_of(s, rnd.campaign_id, person.id)
    if contact is None or contact.evaluee_key != rnd.evaluee_key:
        return None
    return fb.current_round(s, rnd.campaign_id, rnd.evaluee_key)


def on_rect_tap(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    round_id = rf.round_of(inc.data)
    if round_id is None:
        return Reply(toast=t("ev.stale", person.locale))
    rnd = _round_for(s, person, round_id)
    if rnd is None:
        return _not_available(person, inc)
    if rnd.id != round_id:  # a button of an earlier round: show the current plan
        return _step(svc, s, person, rnd, rf.Show())
    return _step(svc, s, person, rnd, rf.Tap(inc.data))


def on_text(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply | None:
    """Claim free text only while a plan step waits for it."""
    convs = s.exec(select(Conversation).where(Conversation.person_id == person.id, Conversation.flow == FLOW)
                   .order_by(Conversation.updated_at.desc())).all()
    for conv in convs:
        state = rf.RState.model_validate(conv.state)
        if not state.wants_text:
            continue
        rnd = _round_for(s, person, state.round_id)
        if rnd is None:
            continue
        return _step(svc, s, person, rnd, rf.Text(inc.text[:5000]))
    return None


# --- follow-up answers --------------------------------------------------------------------------
def on_followup_tap(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    parsed = feedback.parse_followup(inc.data)
    rnd = s.get(fb.RectRound, parsed[0]) if parsed else None
    if rnd is None:
        return Reply(toast=t("ev.stale", person.locale))
    if rnd.survey_started_at is None or rnd.survey_closed_at is not None:
        return Reply(toast=t("fu.closed", person.locale))
    campaign = svc.campaign(s, rnd.campaign_id)
    option = parsed[1]
    if option is not None and not 0 <= option < len(campaign.scale):
        return Reply(toast=t("ev.stale", person.locale))
    try:
        fb.answer(s, rnd.id, person.id, None if option is None else campaign.scale[option].key)
    except fb.NotAsked:
        return Reply(toast=t("ev.stale", person.locale))
    except fb.AlreadyAnswered:
        return Reply(toast=t("fu.already", person.locale))
    return Reply([_say("fu.thanks", person.locale)], toast=t("fu.thanks", person.locale))


# --- organizers --------------------------------------------------------------------------------------
def on_board(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    from bot.chat.organizer import organized_by

    mine = organized_by(svc, s, person, inc.text)
    if not mine:
        return Reply([_say("org.board_not_available", person.locale)])
    now = svc.clock()
    return Reply([Message(boards.board_text(c, boards.board(s, c, now), person.locale)) for c in mine])


FEATURE = Feature(
    "evaluee",
    commands={"notice": on_notice, "plan": on_plan, "rectification": on_board},
    links={"evaluee": on_evaluee_link},
    taps={"R": on_rect_tap, "F": on_followup_tap},
    text=on_text,
)
